"""What each caller may do to a clearance request in each status, read from the workflow
rules: officers of its organisation claim and decide it, LTO staff may withdraw it."""

from __future__ import annotations

import pytest

from clearance import services
from clearance.access import OPEN_FROM, allowed_actions
from organisations.access import Action, Caller
from organisations.services import api_key_create
from tests.conftest import claim_and_approve, sent_for_clearance

pytestmark = pytest.mark.django_db

A = Action


def test_a_pending_request_is_claimed_by_its_organisation_and_withdrawn_by_the_lto(world):
    _, requests = sent_for_clearance(world)
    hpg = requests["HPG"]

    assert allowed_actions(Caller(world.hpg_officer), hpg) == {A.CLAIM, A.UPLOAD_DOCUMENT}
    assert allowed_actions(Caller(world.insurer_officer), hpg) == set()
    assert allowed_actions(Caller(world.lto_admin), hpg) == {A.CANCEL_CLEARANCE}
    assert allowed_actions(Caller(world.owner), hpg) == set()


def test_a_request_under_review_is_decided_not_claimed(world):
    _, requests = sent_for_clearance(world)
    services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    requests["HPG"].refresh_from_db()

    assert allowed_actions(Caller(world.hpg_officer), requests["HPG"]) == {
        A.DECIDE,
        A.UPLOAD_DOCUMENT,
    }


def test_a_decided_request_offers_only_more_evidence(world):
    _, requests = sent_for_clearance(world)
    claim_and_approve(world, requests["HPG"])
    requests["HPG"].refresh_from_db()

    # Evidence may still come after the decision (issue 19, item 4); it changes no decision.
    assert allowed_actions(Caller(world.hpg_officer), requests["HPG"]) == {A.UPLOAD_DOCUMENT}
    assert allowed_actions(Caller(world.lto_admin), requests["HPG"]) == set()


def test_a_key_decides_only_with_the_decide_scope(world):
    _, requests = sent_for_clearance(world)
    read, _ = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="r", scopes=["read"]
    )
    decide, _ = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="d", scopes=["decide"]
    )

    assert allowed_actions(Caller(world.hpg_admin, read), requests["HPG"]) == set()
    assert allowed_actions(Caller(world.hpg_admin, decide), requests["HPG"]) == {A.CLAIM}


def test_where_each_move_starts_comes_from_the_rules():
    assert OPEN_FROM[A.CLAIM] == {"pending"}
    assert OPEN_FROM[A.DECIDE] == {"in_review"}
    assert OPEN_FROM[A.CANCEL_CLEARANCE] == {"pending", "in_review", "returned"}
