"""The clearance workflow through its services: each change on the ledger, in the history,
announced to the right people."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from chaincode.rules import ApplicationStatus, ClearanceStatus, NotAuthorised, TransitionNotAllowed
from clearance import services as clearance_services
from clearance.models import ClearanceRequest, ClearanceStatusChange
from kernel.errors import Conflict, PermissionDenied
from ledger.models import LedgerEntry, WorldState
from notifications.models import Notification
from registry import services as registry_services
from registry.models import ApplicationStatusChange
from tests.conftest import (
    claim_and_approve,
    filed_application,
    findings_for,
    registered_application,
    sent_for_clearance,
    with_required_documents,
)
from tests.paying import pay_in_full


def test_sending_for_clearance_opens_one_request_per_required_kind_on_the_ledger(world):
    application, requests = sent_for_clearance(world)

    assert application.status == ApplicationStatus.AWAITING_CLEARANCES
    assert sorted(requests) == ["EMISSION", "HPG", "INSURANCE"]
    for request in requests.values():
        change = request.status_changes.get()
        assert (change.from_status, change.to_status) == ("", "pending")
        assert LedgerEntry.objects.filter(tx_id=change.ledger_tx_id).exists()
        assert change.organisation == world.lto
    assert Notification.objects.filter(
        recipient=world.hpg_officer, event="clearance_requested"
    ).exists()
    assert not Notification.objects.filter(
        recipient=world.insurer_officer, title__startswith="HPG"
    ).exists()


def test_a_renewal_needs_only_insurance_and_emission(world):
    first = registered_application(world)
    renewal = registry_services.application_create(
        applicant=world.owner,
        vehicle_id=first.vehicle_id,
        type="renewal",
        today=first.period_end - dt.timedelta(days=10),
    )
    with_required_documents(renewal)
    registry_services.application_submit(application_id=renewal.pk, actor=world.owner)
    _, requests = sent_for_clearance(world, renewal)
    assert sorted(requests) == ["EMISSION", "INSURANCE"]


def test_the_application_is_cleared_only_when_every_required_clearance_is_approved(world):
    application, requests = sent_for_clearance(world)

    claim_and_approve(world, requests["HPG"])
    claim_and_approve(world, requests["INSURANCE"])
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_CLEARANCES

    claim_and_approve(world, requests["EMISSION"])
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CLEARED
    assert application.status_changes.last().reason == "Every required clearance is approved."
    assert Notification.objects.filter(recipient=world.owner, event="application_cleared").exists()


def test_a_rejected_clearance_keeps_the_application_from_clearing(world):
    application, requests = sent_for_clearance(world)
    claim_and_approve(world, requests["HPG"])
    claim_and_approve(world, requests["INSURANCE"])
    clearance_services.clearance_claim(
        request_id=requests["EMISSION"].pk, officer=world.emission_officer
    )
    clearance_services.clearance_decide(
        request_id=requests["EMISSION"].pk,
        officer=world.emission_officer,
        decision=ClearanceStatus.REJECTED,
        remarks="Failed the smoke test twice.",
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_CLEARANCES
    with pytest.raises(TransitionNotAllowed):
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    registry_services.registration_reject(
        application_id=application.pk, actor=world.lto_admin, reason="Emission test failed."
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED


def test_a_returned_clearance_goes_back_to_pending_when_the_owner_resubmits(world):
    application, requests = sent_for_clearance(world)
    request = requests["EMISSION"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.emission_officer)
    clearance_services.clearance_decide(
        request_id=request.pk,
        officer=world.emission_officer,
        decision=ClearanceStatus.RETURNED,
        remarks="Test sheet unsigned.",
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RETURNED
    assert Notification.objects.filter(recipient=world.owner, event="clearance_returned").exists()

    registry_services.application_resubmit(
        application_id=application.pk, actor=world.owner, note="Signed sheet attached."
    )
    request.refresh_from_db()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_CLEARANCES
    assert request.status == ClearanceStatus.PENDING
    assert list(request.status_changes.values_list("to_status", flat=True)) == [
        "pending",
        "in_review",
        "returned",
        "pending",
    ]
    claim_and_approve(world, request)
    request.refresh_from_db()
    assert request.status == ClearanceStatus.APPROVED


def test_the_full_journey_ends_with_a_plate_and_a_ledger_registration(world):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)

    pay_in_full(application)
    change = registry_services.registration_approve(
        application_id=application.pk, actor=world.lto_admin
    )
    application.refresh_from_db()
    vehicle = application.vehicle
    assert application.status == ApplicationStatus.APPROVED
    assert vehicle.plate_number and vehicle.mv_file_number.startswith("1300-")
    assert change.ledger_tx_id and change.ledger_block
    assert WorldState.objects.filter(key=f"vehicle:{vehicle.vin}").exists()
    assert Notification.objects.filter(
        recipient=world.owner, event="registration_approved"
    ).exists()


def test_the_lto_cancels_an_open_request_on_the_ledger(world):
    _, requests = sent_for_clearance(world)
    clearance_services.clearance_cancel(
        request_id=requests["INSURANCE"].pk, actor=world.lto_admin, reason="Wrong insurer."
    )
    requests["INSURANCE"].refresh_from_db()
    assert requests["INSURANCE"].status == ClearanceStatus.CANCELLED
    with pytest.raises(PermissionDenied):
        clearance_services.clearance_cancel(
            request_id=requests["HPG"].pk, actor=world.hpg_officer, reason="Not mine."
        )


def test_an_owner_withdrawing_cancels_every_open_request(world):
    application, requests = sent_for_clearance(world)
    claim_and_approve(world, requests["HPG"])
    registry_services.application_cancel(application_id=application.pk, actor=world.owner)
    statuses = dict(application.clearance_requests.values_list("kind", "status"))
    assert statuses == {"HPG": "approved", "INSURANCE": "cancelled", "EMISSION": "cancelled"}


def test_an_hpg_officer_cannot_decide_an_insurance_request(world):
    _, requests = sent_for_clearance(world)
    request = requests["INSURANCE"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.insurer_officer)

    with pytest.raises(PermissionDenied, match="You do not act for Bayanihan Mutual"):
        clearance_services.clearance_decide(
            request_id=request.pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.APPROVED,
            remarks="",
            findings=findings_for(request),
        )
    with pytest.raises(PermissionDenied):
        clearance_services.clearance_claim(
            request_id=requests["EMISSION"].pk, officer=world.hpg_officer
        )
    request.refresh_from_db()
    assert request.status == ClearanceStatus.IN_REVIEW


def test_an_officer_cannot_decide_before_claiming(world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    with pytest.raises(TransitionNotAllowed, match="pending cannot become approved"):
        clearance_services.clearance_decide(
            request_id=request.pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.APPROVED,
            remarks="",
            findings=findings_for(request),
        )


def test_a_decided_request_cannot_be_decided_again(world):
    _, requests = sent_for_clearance(world)
    claim_and_approve(world, requests["HPG"])
    with pytest.raises(Conflict, match="already approved"):
        clearance_services.clearance_decide(
            request_id=requests["HPG"].pk,
            officer=world.hpg_officer_2,
            decision=ClearanceStatus.REJECTED,
            remarks="Too late.",
        )


def test_owners_and_officers_cannot_take_lto_steps(world):
    application = filed_application(world)
    for outsider in (world.owner, world.hpg_officer, world.hpg_admin):
        with pytest.raises(PermissionDenied):
            registry_services.application_start_review(
                application_id=application.pk, actor=outsider
            )
    with pytest.raises(PermissionDenied):
        registry_services.application_submit(application_id=application.pk, actor=world.other_owner)


def test_illegal_application_moves_are_refused_with_a_clear_message(world):
    application = filed_application(world)
    with pytest.raises(TransitionNotAllowed, match="submitted cannot become approved"):
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    with pytest.raises(TransitionNotAllowed, match="submitted cannot become submitted"):
        registry_services.application_submit(application_id=application.pk, actor=world.owner)


def test_rejecting_or_returning_needs_remarks(world):
    _, requests = sent_for_clearance(world)
    clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    with pytest.raises(ValidationError) as refused:
        clearance_services.clearance_decide(
            request_id=requests["HPG"].pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.RETURNED,
            remarks="  ",
        )
    assert "remarks" in refused.value.message_dict


def test_the_same_change_id_decided_twice_is_recorded_once(world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    change_id = uuid.uuid4()
    entries_before = LedgerEntry.objects.count()

    decide = dict(
        request_id=request.pk,
        officer=world.hpg_officer,
        decision=ClearanceStatus.APPROVED,
        remarks="OK",
        findings=findings_for(request),
        change_id=change_id,
    )
    first = clearance_services.clearance_decide(**decide)
    again = clearance_services.clearance_decide(**decide)

    assert again.pk == first.pk
    assert ClearanceStatusChange.objects.filter(change_id=change_id).count() == 1
    assert LedgerEntry.objects.count() == entries_before + 1


def test_application_history_is_appended_for_every_move(world):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    moves = list(
        ApplicationStatusChange.objects.filter(application=application).values_list(
            "from_status", "to_status"
        )
    )
    assert moves == [
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "awaiting_clearances"),
        ("awaiting_clearances", "cleared"),
    ]


def test_the_chaincode_and_the_app_agree_on_authority(world):
    """Even if the app's own check were skipped, the chaincode refuses a forged signer."""
    from ledger import get_ledger
    from ledger.base import ClearanceChange
    from ledger.exceptions import LedgerRejected

    _, requests = sent_for_clearance(world)
    request = ClearanceRequest.objects.get(pk=requests["HPG"].pk)
    with pytest.raises(LedgerRejected, match="Only HPG"):
        get_ledger().update_clearance_status(
            ClearanceChange(
                clearance_id=str(request.public_id),
                vin=request.application.vehicle.vin,
                kind="HPG",
                from_status="pending",
                to_status="in_review",
                change_id=str(uuid.uuid4()),
                actor_id="a" * 64,
                remarks_digest="",
                signer_msp="InsuranceMSP",
            )
        )
    with pytest.raises(NotAuthorised):
        from clearance.transitions import record_clearance_change

        record_clearance_change(
            request=request,
            to_status="in_review",
            actor=world.insurer_officer,
            organisation=world.insurer,
        )
