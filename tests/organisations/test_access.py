"""The caller and the vocabulary of the one access funnel: keys act within their scopes and
their organisation; organisations are managed by their admins (keys) and LTO staff (keys)."""

from __future__ import annotations

import pytest

from organisations.access import Action, Caller, allowed_actions
from organisations.models import ApiKey
from organisations.services import api_key_create

pytestmark = pytest.mark.django_db


def _key(world, *, scopes: list[str], organisation=None, creator=None) -> ApiKey:
    key, _ = api_key_create(
        organisation_id=(organisation or world.hpg).pk,
        admin=creator or world.hpg_admin,
        name="claims system",
        scopes=scopes,
    )
    return key


def test_a_read_key_may_view_but_not_claim_or_decide(world):
    caller = Caller(world.hpg_admin, _key(world, scopes=["read"]))

    assert caller.permits(Action.VIEW)
    assert not caller.permits(Action.CLAIM)
    assert not caller.permits(Action.DECIDE)


def test_a_decide_key_may_claim_decide_deregister_hold_record_origins_and_change_webhooks(
    world,
):
    # The write scope of every kind's key: a dealer's records origins with it, an LTO key
    # deregisters, HPG's and the LTO's place and lift holds (the services refuse anyone else).
    caller = Caller(world.hpg_admin, _key(world, scopes=["decide"]))

    # Deregistering and holds are further limited by the organisation's kind (registry).
    # A lender's key proposes, withdraws and releases its mortgages (registry.access lets
    # only that lender's keys do so); an owner's consent is never a key's.
    assert caller.scoped(set(Action)) == {
        Action.VIEW,
        Action.CLAIM,
        Action.DECIDE,
        Action.DEREGISTER,
        Action.PLACE_HOLD,
        Action.LIFT_HOLD,
        Action.RECORD_ORIGIN,
        Action.PROPOSE_MORTGAGE,
        Action.WITHDRAW_MORTGAGE,
        Action.RELEASE_MORTGAGE,
        Action.MANAGE_WEBHOOKS,
    }


def test_a_person_in_a_session_is_not_limited_by_scopes(world):
    assert Caller(world.hpg_officer).scoped(set(Action)) == set(Action)


def test_a_key_acts_only_for_its_own_organisation(world):
    # LTO staff may issue a key for HPG; it acts as them, but only for HPG, where they are
    # not officers, so it acts for no organisation at all.
    lto_key = Caller(world.lto_admin, _key(world, scopes=["read"], creator=world.lto_admin))
    hpg_key = Caller(world.hpg_admin, _key(world, scopes=["read"]))

    assert not lto_key.acts_for(world.lto.pk) and not lto_key.acts_for(world.hpg.pk)
    assert hpg_key.acts_for(world.hpg.pk)
    assert lto_key.organisation_limit == hpg_key.organisation_limit == world.hpg.pk


def test_a_callers_memberships_are_read_once_however_many_questions(
    world, django_assert_num_queries
):
    caller = Caller(world.hpg_admin)
    with django_assert_num_queries(1):
        assert caller.administers(world.hpg.pk)
        assert caller.acts_for(world.hpg.pk)
        assert not caller.is_lto_staff
        assert not caller.acts_for(world.insurer.pk)


def test_an_organisations_admin_manages_its_officers_keys_and_webhooks(world):
    assert allowed_actions(Caller(world.hpg_admin), world.hpg) == {
        Action.MANAGE_OFFICERS,
        Action.MANAGE_API_KEYS,
        Action.MANAGE_WEBHOOKS,
    }
    assert allowed_actions(Caller(world.hpg_admin), world.insurer) == set()


def test_every_lto_member_manages_the_ltos_webhooks(four_eyes):
    assert Action.MANAGE_WEBHOOKS in allowed_actions(Caller(four_eyes.lto_reviewer), four_eyes.lto)
    assert Action.MANAGE_WEBHOOKS not in allowed_actions(
        Caller(four_eyes.lto_reviewer), four_eyes.hpg
    )


def test_lto_staff_manage_every_organisations_keys_but_not_its_officers(world):
    assert allowed_actions(Caller(world.lto_admin), world.hpg) == {Action.MANAGE_API_KEYS}


def test_officers_and_keys_manage_nothing(world):
    assert allowed_actions(Caller(world.hpg_officer), world.hpg) == set()
    key = _key(world, scopes=["read", "decide"])
    assert allowed_actions(Caller(world.hpg_admin, key), world.hpg) == set()
