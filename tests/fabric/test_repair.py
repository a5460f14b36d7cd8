"""reconcile_ledger --repair: the database follows a change the ledger committed and lost.

With Fabric the ledger can commit while the database transaction that asked for the write
then fails. The repair writes the change back from the ledger, marked as repaired; the
organisation enters its remarks again, and only the text whose digest the ledger holds is
taken. reconcile also compares current statuses and finds receipts left unconfirmed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from io import StringIO
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from chaincode.rules import ApplicationStatus, ClearanceStatus
from clearance import services as clearance_services
from clearance.models import ClearanceStatusChange, HpgClearanceDetail
from ledger import get_ledger
from ledger.base import sha256_hex
from notifications.models import Notification
from registry import services as registry_services
from registry.document_services import document_upload
from registry.models import ApplicationStatusChange, RegistrationApplication, Vehicle
from tests.conftest import claim_and_approve, filed_application, findings_for, sent_for_clearance
from tests.paying import pay_in_full

REMARKS = "Engine and chassis numbers match the stencil."


def reconcile(*options: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", "--idle-seconds", "0.5", *options, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


@contextlib.contextmanager
def database_fails_after_the_ledger_commits() -> Iterator[list[str]]:
    """The next ledger write commits; then the database transaction that asked for it fails.
    Yields the change ids the ledger committed."""
    ledger = get_ledger()
    committed: list[str] = []
    real_record = ledger.record

    def record_then_fail(record):  # type: ignore[no-untyped-def]
        real_record(record)
        committed.append(record.change_id)
        raise RuntimeError("the database connection dropped")

    with mock.patch.object(ledger, "record", record_then_fail), pytest.raises(RuntimeError):
        yield committed


def decision_lost_after_the_ledger_committed(world, request) -> str:
    """Approve the request; the database fails once the ledger has committed the approval."""
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    with database_fails_after_the_ledger_commits() as committed:
        clearance_services.clearance_decide(
            request_id=request.pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.APPROVED,
            remarks=REMARKS,
            findings=findings_for(request),
        )
    return committed[0]


def cleared(world, *, plate: str = "") -> RegistrationApplication:
    application = filed_application(world)
    if plate:
        # A vehicle that has its numbers already: approving it changes neither.
        Vehicle.objects.filter(pk=application.vehicle_id).update(
            plate_number=plate, mv_file_number=f"1300-{application.vehicle_id:011d}"
        )
    _, requests = sent_for_clearance(world, application)
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CLEARED
    return application


def test_repair_approves_a_registration_the_database_lost(world, fabric):
    application = cleared(world, plate="NAB 1234")
    with database_fails_after_the_ledger_commits() as committed:
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    output, error = reconcile("--repair")

    assert error is None, output
    assert f"REPAIRED: ledger change {committed[0]}: application {application.reference}" in output
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    row = ApplicationStatusChange.objects.get(change_id=committed[0])
    assert row.repaired_from_ledger_at is not None and row.ledger_backend == "fabric"
    assert Notification.objects.filter(
        recipient=world.owner, title="Registration approved: plate NAB 1234"
    ).exists()
    # What the approval grants is written back with it: the owner's certificate and period.
    assert application.certificates.get().status == "valid"
    assert application.registration_period.valid_to == application.period_end


def test_a_registration_whose_plate_was_lost_is_listed_as_not_repaired(world, fabric):
    application = cleared(world)
    with database_fails_after_the_ledger_commits() as committed:
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    output, error = reconcile("--repair")

    assert error is not None
    assert f"NOT REPAIRED: ledger change {committed[0]}: vehicle" in output
    assert f"ledger change {committed[0]}: has no history row" in output
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CLEARED


def test_a_document_anchor_without_its_file_is_listed_as_not_repaired(world, fabric):
    application = filed_application(world)
    with database_fails_after_the_ledger_commits() as committed:
        document_upload(
            application_id=application.pk,
            uploader=world.owner,
            doc_type="sales_invoice",
            upload=SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 an invoice"),
        )

    output, error = reconcile("--repair")

    assert error is not None
    assert f"NOT REPAIRED: ledger change {committed[0]}: document" in output
    assert "must be uploaded again" in output


def test_repair_writes_back_a_decision_the_database_lost(world, fabric):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    change_id = decision_lost_after_the_ledger_committed(world, request)
    request.refresh_from_db()
    assert request.status == ClearanceStatus.IN_REVIEW

    output, error = reconcile()
    assert error is not None
    assert f"ledger change {change_id}: has no history row" in output
    assert "is in_review in the database but approved on the ledger" in output

    output, error = reconcile("--repair")

    assert error is None, output
    assert f"REPAIRED: ledger change {change_id}: request {request.pk} is approved" in output
    request.refresh_from_db()
    assert request.status == ClearanceStatus.APPROVED
    row = ClearanceStatusChange.objects.get(change_id=change_id)
    assert row.repaired_from_ledger_at is not None
    assert row.remarks == "" and row.remarks_digest == sha256_hex(REMARKS)
    assert row.ledger_tx_id == get_ledger().get_change(change_id)["tx_id"]
    assert row.actor == world.hpg_officer
    told = Notification.objects.filter(recipient=world.hpg_officer, title__contains="restored")
    assert told.count() == 1
    assert told.get().link == reverse("clearance-change-reenter", args=[row.change_id])


def test_the_repaired_remarks_are_taken_only_if_they_match_the_ledgers_digest(
    world, fabric, client
):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    change_id = decision_lost_after_the_ledger_committed(world, request)
    reconcile("--repair")
    page = reverse("clearance-change-reenter", args=[change_id])
    findings = dataclasses.asdict(findings_for(request))
    client.force_login(world.hpg_officer)

    wrong = client.post(page, {**findings, "remarks": "Numbers match."})

    assert wrong.status_code == 422
    assert "not the remarks the ledger recorded" in wrong.content.decode()
    assert ClearanceStatusChange.objects.get(change_id=change_id).remarks == ""

    no_findings = client.post(page, {"remarks": REMARKS})

    assert no_findings.status_code == 422
    assert not HpgClearanceDetail.objects.filter(request=request).exists()

    right = client.post(page, {**findings, "remarks": REMARKS})

    assert right.status_code == 302
    row = ClearanceStatusChange.objects.get(change_id=change_id)
    assert row.remarks == REMARKS and row.reentered_at is not None
    assert row.request.remarks == REMARKS
    detail = HpgClearanceDetail.objects.get(request=request)
    assert detail.certificate_number == findings["certificate_number"]
    output, error = reconcile()
    assert error is None, output
    again = client.post(page, {**findings, "remarks": REMARKS})
    assert (
        again.status_code == 409 and "Nothing of this change is waiting" in again.content.decode()
    )


def test_another_organisation_cannot_see_the_reentry_page(world, fabric, client):
    _, requests = sent_for_clearance(world)
    change_id = decision_lost_after_the_ledger_committed(world, requests["HPG"])
    reconcile("--repair")
    client.force_login(world.emission_officer)

    response = client.post(
        reverse("clearance-change-reenter", args=[change_id]), {"remarks": REMARKS}
    )

    assert response.status_code == 404


def test_reconcile_finds_a_request_status_altered_in_sql(world, fabric):
    _, requests = sent_for_clearance(world)
    request = requests["INSURANCE"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clearance_clearancerequest SET status = 'approved' WHERE id = %s", [request.pk]
        )

    output, error = reconcile()

    assert error is not None and error.returncode == 1
    assert (
        f"DIFFERENCE: clearance request {request.pk} ({request.public_id}): is approved in the "
        "database but pending on the ledger"
    ) in output


def test_reconcile_reports_receipts_the_listener_never_confirmed(world, fabric, settings):
    settings.LEDGER_UNCONFIRMED_AFTER_SECONDS = 0
    sent_for_clearance(world)

    output, error = reconcile()

    assert error is not None
    unconfirmed = [line for line in output.splitlines() if "never confirmed" in line]
    # The three clearance requests opened, and the three papers the application was filed with.
    assert len(unconfirmed) == 6, output

    with mock.patch("notifications.live._enqueue_push"):
        call_command("ledger_listen", "--idle-seconds", "0.5", stdout=StringIO())
    output, error = reconcile()

    assert error is None, output


def test_retrying_a_change_the_database_lost_records_what_the_ledger_holds(world, fabric):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    with database_fails_after_the_ledger_commits() as committed:
        clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)

    claim = clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)

    # The same claim of the same request: the ledger answers it from its first commit.
    assert str(claim.change_id) == committed[0]
    assert claim.ledger_tx_id == get_ledger().get_change(committed[0])["tx_id"]
    output, error = reconcile()
    assert error is None, output
