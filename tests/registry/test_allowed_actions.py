"""What each caller may do to an application in each status: the one answer that the services
enforce and the application page draws its buttons from."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chaincode.rules import APPLICATION_ACTION_MOVES, APPLICATION_TRANSITIONS, check_action_moves
from organisations.access import Action, Caller
from registry import services
from registry.access import allowed_actions
from tests.conftest import filed_application, sent_for_clearance
from tests.factories import VehicleFactory

pytestmark = pytest.mark.django_db

A = Action


def _draft(world):
    vehicle = VehicleFactory(owner=world.owner)
    return services.application_create(applicant=world.owner, vehicle_id=vehicle.pk, type="new")


def test_the_owner_of_a_draft_may_submit_withdraw_correct_and_add_documents(world):
    application = _draft(world)

    assert allowed_actions(Caller(world.owner), application) == {
        A.SUBMIT,
        A.WITHDRAW,
        A.CORRECT_VEHICLE,
        A.UPLOAD_DOCUMENT,
    }
    assert allowed_actions(Caller(world.other_owner), application) == set()


def test_lto_staff_start_the_review_of_a_submitted_application(world):
    application = filed_application(world)

    assert allowed_actions(Caller(world.lto_admin), application) == {
        A.START_REVIEW,
        A.UPLOAD_DOCUMENT,
    }
    assert allowed_actions(Caller(world.owner), application) == {A.WITHDRAW, A.UPLOAD_DOCUMENT}


def test_under_review_lto_staff_send_return_or_reject(world):
    application = filed_application(world)
    services.application_start_review(application_id=application.pk, actor=world.lto_admin)
    application.refresh_from_db()

    assert allowed_actions(Caller(world.lto_admin), application) == {
        A.SEND_FOR_CLEARANCE,
        A.RETURN,
        A.REJECT_REGISTRATION,
        A.UPLOAD_DOCUMENT,
    }


def test_officers_may_do_nothing_to_the_application_itself(world):
    application, _ = sent_for_clearance(world)

    assert allowed_actions(Caller(world.hpg_officer), application) == set()


def test_every_offered_action_is_one_the_rules_have(world):
    check_action_moves(APPLICATION_ACTION_MOVES, APPLICATION_TRANSITIONS)
    assert set(APPLICATION_ACTION_MOVES) <= {action.value for action in Action}


def test_an_action_table_with_a_move_the_rules_lack_is_refused():
    with pytest.raises(ValueError, match="submit: draft -> approved"):
        check_action_moves({"submit": {"draft": "approved"}}, APPLICATION_TRANSITIONS)


def test_the_page_offers_exactly_the_allowed_actions(client, world):
    application = _draft(world)
    url = reverse("application-detail", args=[application.pk])

    client.force_login(world.owner)
    owner_page = client.get(url).content.decode()
    client.force_login(world.lto_admin)
    lto_page = client.get(url).content.decode()

    submit = reverse("application-submit", args=[application.pk])
    withdraw = reverse("application-cancel", args=[application.pk])
    review = reverse("application-review", args=[application.pk])
    assert submit in owner_page and withdraw in owner_page and review not in owner_page
    assert submit not in lto_page and withdraw not in lto_page and review not in lto_page


def test_a_cleared_application_takes_no_more_papers_from_its_owner_but_does_from_the_lto(
    world,
):
    from tests.conftest import claim_and_approve

    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    application.refresh_from_db()
    assert application.status == "cleared"

    assert A.UPLOAD_DOCUMENT not in allowed_actions(Caller(world.owner), application)
    assert A.UPLOAD_DOCUMENT in allowed_actions(Caller(world.lto_admin), application)
