"""A clearance kind is one module: one registered from the tests, without touching clearance/,
goes through sending, claiming, deciding, the API and the pages like the built-in ones."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from chaincode.rules import ClearanceStatus
from clearance import kinds
from clearance.checks import kinds_match_the_chaincode
from clearance.models import ClearanceRequirement
from tests.api.test_problems import assert_problem
from tests.clearance.kinds.roadworthy import (
    CODE,
    ROADWORTHY,
    SAVED,
    RoadworthyFindings,
    registered,  # noqa: F401  (a fixture, asked for by name below)
)
from tests.conftest import claim_and_approve, sent_for_clearance


@pytest.fixture
def roadworthy_needed(world, registered):  # noqa: F811  (the fixture imported above)
    """New registrations need the kind: a requirement row, as an LTO admin would add it."""
    ClearanceRequirement.objects.create(application_type="new", kind=CODE)
    return world


def test_the_registry_lists_the_new_kind_beside_the_built_in_ones(registered):  # noqa: F811
    assert [kind.code for kind in kinds.kinds()] == ["EMISSION", "HPG", "INSURANCE", "LENDER", CODE]
    assert kinds.kind(CODE) is ROADWORTHY
    assert (CODE, "Roadworthiness") in kinds.choices()


def test_a_kind_cannot_be_registered_twice(registered):  # noqa: F811
    with pytest.raises(ValueError, match="registered already"):
        kinds.register(ROADWORTHY)


def test_sending_asks_the_organisation_kind_that_signs_it_with_its_service_level(
    roadworthy_needed,
):
    world = roadworthy_needed

    _, requests = sent_for_clearance(world)

    request = requests[CODE]
    assert sorted(requests) == ["EMISSION", "HPG", "INSURANCE", CODE]
    assert request.organisation == world.emission
    assert request.get_kind_display() == "Roadworthiness"
    assert abs(request.due_at - request.created_at - dt.timedelta(hours=36)) < dt.timedelta(
        minutes=1
    )


def test_the_new_kind_is_claimed_and_decided_through_the_pages(client, roadworthy_needed):
    world = roadworthy_needed
    application, requests = sent_for_clearance(world)
    request = requests[CODE]
    for other in ("HPG", "INSURANCE", "EMISSION"):
        claim_and_approve(world, requests[other])
    client.force_login(world.emission_officer)

    client.post(reverse("clearance-claim", args=[request.pk]))
    page = client.get(reverse("clearance-detail", args=[request.pk])).content.decode()
    response = client.post(
        reverse("clearance-decide", args=[request.pk]),
        {
            "decision": "approved",
            "remarks": "",
            "inspection_number": f"MVIC-{request.pk}",
            "brakes": "pass",
            "lights": "pass",
        },
    )

    assert 'data-testid="roadworthy-findings"' in page
    assert f'value="MVIC-{request.pk}"' in page  # the kind's starting values
    assert 'name="brakes"' in page and 'name="lights"' in page
    # Its evidence comes first in the evidence form, chosen by the officer, not pre-selected.
    usual = re.search(r'<optgroup label="Usual for this check">(.*?)</optgroup>', page, re.S)
    assert usual is not None and 'value="other"' in usual.group(1)
    assert 'value="other" selected' not in page
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ClearanceStatus.APPROVED
    assert SAVED[request.pk] == RoadworthyFindings(f"MVIC-{request.pk}", "pass", "pass")
    change = request.status_changes.order_by("created_at", "id").last()
    assert change.organisation == world.emission and change.ledger_tx_id
    application.refresh_from_db()
    assert application.status == "cleared"  # the new kind counted among those required

    client.force_login(world.owner)
    body = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert f'data-testid="clearance-{CODE}-status"' in body
    assert f"Roadworthiness · {world.emission.name}" in body


def test_the_new_kind_is_read_claimed_and_decided_through_the_api(roadworthy_needed):
    world = roadworthy_needed
    _, requests = sent_for_clearance(world)
    request = requests[CODE]
    client = APIClient()
    client.force_login(world.emission_officer)
    url = f"/api/v1/clearances/{request.pk}/"

    claimed = client.post(f"{url}claim/")
    detail = client.get(url)
    wrong = client.post(
        f"{url}decide/",
        {"decision": "approved", "findings": {"inspection_number": "X", "brakes": "wobbly"}},
        format="json",
    )
    failed = client.post(
        f"{url}decide/",
        {
            "decision": "approved",
            "findings": {"inspection_number": "MVIC-9", "brakes": "fail", "lights": "pass"},
        },
        format="json",
    )
    decided = client.post(
        f"{url}decide/",
        {
            "decision": "approved",
            "remarks": "Brakes and lights pass.",
            "findings": {"inspection_number": "MVIC-9", "brakes": "pass", "lights": "pass"},
        },
        format="json",
    )

    assert claimed.status_code == 200, claimed.content
    assert detail.status_code == 200
    assert detail.json()["kind"] == CODE
    assert [c["to_status"] for c in detail.json()["history"]] == ["pending", "in_review"]
    errors = assert_problem(wrong, 400, "invalid")["errors"]
    assert set(errors["findings"]) == {"brakes", "lights"}
    assert set(assert_problem(failed, 422, "invalid")["errors"]) == {"brakes"}
    assert decided.status_code == 200, decided.content
    assert decided.json()["to_status"] == "approved"
    assert SAVED[request.pk] == RoadworthyFindings("MVIC-9", "pass", "pass")


def test_the_start_up_check_names_a_kind_the_chaincode_does_not_know(
    registered,  # noqa: F811
    monkeypatch,
):
    monkeypatch.delenv("TALAAN_CLEARANCE_SIGNERS")

    errors = kinds_match_the_chaincode()

    assert [error.id for error in errors] == ["clearance.E001"]
    assert CODE in errors[0].msg


def test_the_built_in_kinds_match_the_chaincode():
    assert kinds_match_the_chaincode() == []
