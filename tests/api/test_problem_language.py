"""The API's problem details speak the language of ``Accept-Language``; type and code never
change with it."""

from __future__ import annotations

import uuid

import pytest

from chaincode.rules import ClearanceStatus
from ledger import get_ledger
from ledger.base import ClearanceChange, actor_pseudonym
from tests.api.conftest import Office, client_for
from tests.api.test_decide import _approval, _claimed, _decide
from tests.api.test_problems import assert_problem

FILIPINO = "fil-PH,fil;q=0.9,en;q=0.5"


@pytest.fixture(autouse=True)
def bilingual(settings):
    # The site's languages (settings' i18n block comes with the language switch, issue 19).
    settings.LANGUAGES = [("en", "English"), ("fil", "Filipino")]


def _in(language: str | None, office: Office, caller: str = "hpg_officer"):
    client = client_for(office, caller)
    if language:
        client.credentials(HTTP_ACCEPT_LANGUAGE=language)
    return client


def test_a_400_is_in_filipino_for_a_filipino_reader_and_in_english_otherwise(office):
    request = _claimed(office)

    filipino = _decide(_in(FILIPINO, office), request, {"decision": "maybe"})
    english = _decide(_in(None, office), request, {"decision": "maybe"})

    body = assert_problem(filipino, 400, "invalid")
    assert body["title"] == "Maling kahilingan"
    assert body["detail"] == "May maling field ang kahilingan; tingnan ang errors."
    assert set(body["errors"]) == {"decision"}
    plain = assert_problem(english, 400, "invalid")
    assert (plain["title"], plain["detail"]) == (
        "Bad request",
        "The request has invalid fields; see errors.",
    )


def test_a_404_is_in_filipino(office):
    response = _in("fil", office, "insurer_officer").get(
        f"/api/v1/clearances/{office.requests['HPG'].pk}/"
    )

    body = assert_problem(response, 404, "not_found")
    assert (body["title"], body["detail"]) == (
        "Hindi nahanap",
        "Walang ganitong kahilingan ng clearance.",
    )


def test_an_unknown_api_path_answers_in_filipino(db, api_client):
    response = api_client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="fil")

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "Walang ganitong operasyon sa API."


def test_a_409_workflow_refusal_is_worded_in_filipino(office):
    request = office.requests["HPG"]  # nobody claimed it: pending cannot become approved

    response = _decide(_in(FILIPINO, office), request, _approval(request))

    body = assert_problem(response, 409, "transition_not_allowed")
    assert body["title"] == "Salungatan"
    assert body["detail"] == (
        "Ang kahilingan ng clearance na naghihintay ay hindi maaaring maging aprubado."
    )


def test_a_422_is_in_filipino(office):
    request = _claimed(office)

    response = _decide(_in("fil", office), request, {"decision": "rejected"})

    body = assert_problem(response, 422, "invalid")
    assert body["title"] == "Hindi maproseso ang nilalaman"
    assert body["detail"] == (
        "Isulat sa puna ang dahilan kapag tinatanggihan o ibinabalik ang kahilingan."
    )
    assert set(body["errors"]) == {"remarks"}


def _ledger_moves_behind_the_app(office: Office, request, to_status: str) -> None:
    """Another writer (a replica that died before its database commit) moved the request on
    the ledger: the app still thinks it is in review, and the chaincode knows better."""
    get_ledger().update_clearance_status(
        ClearanceChange(
            clearance_id=str(request.public_id),
            vin=request.application.vehicle.vin,
            kind="HPG",
            from_status=ClearanceStatus.IN_REVIEW,
            to_status=to_status,
            change_id=str(uuid.uuid4()),
            actor_id=actor_pseudonym(office.world.hpg_officer_2.pk),
            remarks_digest="",
            signer_msp="HPGMSP",
        )
    )


def test_a_chaincode_refusal_is_translated_from_its_code_not_shown_in_english(office):
    request = _claimed(office)
    _ledger_moves_behind_the_app(office, request, ClearanceStatus.REJECTED)

    filipino = _decide(_in(FILIPINO, office), request, _approval(request))
    english = _decide(_in("en", office), request, _approval(request))

    body = assert_problem(filipino, 422, "ledger_rejected")
    assert body["detail"] == (
        f"Tinanggihan ang clearance {request.public_id} sa ledger, hindi sinusuri."
    )
    # English readers (and integrators matching on it) get the chaincode's own sentence.
    plain = assert_problem(english, 422, "ledger_rejected")
    assert (
        plain["detail"]
        == f"Clearance {request.public_id} is rejected on the ledger, not in_review."
    )
    request.refresh_from_db()
    assert request.status == ClearanceStatus.IN_REVIEW
