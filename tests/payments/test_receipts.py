"""An official receipt is issued with the payment's PAID status: numbered per office in an
unbroken series, a snapshot of the assessment, a PDF with what COA wants an OR to carry,
e-mailed to the payer through the retried delivery path; reprints are counted and marked;
LTO staff void with a reason, once."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import transaction
from django.http import Http404
from pypdf import PdfReader

from kernel.errors import PermissionDenied
from notifications.models import Delivery
from notifications.tasks import redeliver_pending
from organisations.models import Office
from payments import receipt_services
from payments.models import (
    AssessmentItem,
    OfficialReceipt,
    Payment,
    ReceiptHistory,
    ReceiptSequence,
)
from payments.receipt_pdf import render_receipt
from registry.models import RegistrationApplication
from tests.payments.receipts import assessed_application, pay, start_payment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_paid_payment_gets_the_next_number_of_its_office_and_a_snapshot_of_its_fees(world):
    cebu = Office.objects.get(code="R07-CEB-DO")
    first = assessed_application(world)
    RegistrationApplication.objects.filter(pk=first.pk).update(office=cebu)
    second = assessed_application(world, owner=world.other_owner)
    RegistrationApplication.objects.filter(pk=second.pk).update(office=cebu)
    elsewhere = assessed_application(world)  # the default office: its own series

    receipts = [pay(first), pay(second), pay(elsewhere)]

    assert [r.number for r in receipts] == [
        "R07-CEB-DO-0000001",
        "R07-CEB-DO-0000002",
        "NCR-MKT-DO-0000001",
    ]
    receipt = receipts[0]
    assert receipt.payment.status == Payment.Status.PAID
    assert receipt.total_centavos == 325400 and receipt.payer == world.owner
    assert ("mvuc", 160000) in [(i.code, i.amount_centavos) for i in receipt.items.all()]
    # The assessment changing later does not change the receipt.
    AssessmentItem.objects.update(amount_centavos=1, label="changed")
    assert {i.label for i in receipt.items.all()} != {"changed"}
    assert sum(i.amount_centavos for i in receipt.items.all()) == 325400
    # The CR numbers are another series: nothing of the OR's is a certificate number.
    assert not receipt.number.startswith("CR-")


def test_a_payment_rolled_back_after_taking_a_number_leaves_no_gap(world, monkeypatch):
    application = assessed_application(world)
    payment = start_payment(application)

    def mail_queue_fails(**kwargs):
        # After the number is taken: the whole callback's transaction rolls back.
        raise RuntimeError("database went away")

    monkeypatch.setattr(receipt_services, "notify", mail_queue_fails)
    from payments.payment_tasks import deliver_sandbox_callback

    with pytest.raises(RuntimeError), transaction.atomic():
        deliver_sandbox_callback(payment.provider_checkout_id)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert not OfficialReceipt.objects.exists()
    assert not ReceiptSequence.objects.filter(next_serial__gt=1).exists()

    monkeypatch.undo()
    assert deliver_sandbox_callback(payment.provider_checkout_id) == "applied"
    assert OfficialReceipt.objects.get().number == "NCR-MKT-DO-0000001"


def test_the_pdf_carries_what_an_or_must_and_marks_unconfirmed_fees(world):
    receipt = pay(assessed_application(world))

    text = pdf_text(render_receipt(receipt))

    for expected in (
        "Land Transportation Office",
        "LTO Makati District Office (office code NCR-MKT-DO)",
        "OFFICIAL RECEIPT",
        f"No. {receipt.number}",
        world.owner.get_full_name() or world.owner.username,
        f"Application {receipt.application_reference}",
        "Online (sandbox gateway, not real money)",
        receipt.payment.reference,
        receipt.gateway_reference,
        "₱1,600.00",  # the peso sign, in the embedded DejaVu Sans (kernel/pdf.py)
        "TOTAL",
        "₱3,254.00",
        "UNCONFIRMED",
        f"{receipt.issued_at.astimezone():%Y}",
    ):
        assert expected in text, expected
    assert "REPRINT" not in text and "VOID" not in text


def test_the_payer_is_emailed_the_pdf_and_a_mail_outage_is_retried_not_lost(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    def mail_server_down(self, messages):
        # Stands in for an SMTP server that refuses connections: none runs here.
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", mail_server_down)
    application = assessed_application(world)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = pay(application)
    delivery = Delivery.objects.get(notification=receipt.emailed_as, channel="email")
    assert delivery.state == Delivery.State.FAILED and "refused" in delivery.last_error
    assert mail.outbox == []

    monkeypatch.undo()
    Delivery.objects.update(updated_at="2000-01-01T00:00:00Z")
    assert redeliver_pending() == 1

    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT
    (message,) = mail.outbox
    assert message.to == [world.owner.email] and receipt.number in message.subject
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"official-receipt-{receipt.number}.pdf", "application/pdf")
    assert f"No. {receipt.number}" in pdf_text(content)


def test_each_download_is_a_counted_reprint_marked_on_the_pdf(world):
    receipt = pay(assessed_application(world))

    _, _, first = receipt_services.receipt_reprint(user=world.owner, number=receipt.number)
    again, entry2, second = receipt_services.receipt_reprint(
        user=world.lto_admin, number=receipt.number
    )

    assert (first, second) == (1, 2)
    text = pdf_text(render_receipt(again, reprint_number=second, reprinted_at=entry2.at))
    assert "REPRINT no. 2, printed" in text
    kinds = list(receipt.history.values_list("kind", "actor__username"))
    assert kinds == [
        ("issued", None),
        ("reprinted", world.owner.username),
        ("reprinted", world.lto_admin.username),
    ]
    with pytest.raises(Http404):
        receipt_services.receipt_reprint(user=world.other_owner, number=receipt.number)


def test_lto_staff_void_with_a_reason_and_the_number_stays_marked_void(world):
    receipt = pay(assessed_application(world))

    voided = receipt_services.receipt_void(
        staff=world.lto_admin, number=receipt.number, reason="Printed with the wrong name."
    )

    assert voided.number == receipt.number and voided.voided_by == world.lto_admin
    assert OfficialReceipt.objects.filter(number=receipt.number).exists()
    assert voided.payment.status == Payment.Status.PAID  # a void is no refund
    text = pdf_text(render_receipt(OfficialReceipt.objects.get(pk=receipt.pk)))
    assert "VOID since" in text and "Reason: Printed with the wrong name." in text
    history = ReceiptHistory.objects.get(receipt=receipt, kind="voided")
    assert (history.actor, history.note) == (world.lto_admin, "Printed with the wrong name.")
    # The next receipt of the office follows: the void one keeps its place in the series.
    assert pay(assessed_application(world)).serial == receipt.serial + 1


def test_a_void_is_refused_without_a_reason_twice_or_by_anyone_but_lto_staff(world):
    receipt = pay(assessed_application(world))

    with pytest.raises(PermissionDenied):
        receipt_services.receipt_void(staff=world.owner, number=receipt.number, reason="mine")
    with pytest.raises(PermissionDenied):
        receipt_services.receipt_void(staff=world.hpg_officer, number=receipt.number, reason="x")
    with pytest.raises(receipt_services.ReceiptRefused, match="reason is required"):
        receipt_services.receipt_void(staff=world.lto_admin, number=receipt.number, reason="  ")
    receipt.refresh_from_db()
    assert receipt.voided_at is None and receipt.history.count() == 1

    receipt_services.receipt_void(staff=world.lto_admin, number=receipt.number, reason="Spoiled.")
    with pytest.raises(receipt_services.ReceiptAlreadyVoid):
        receipt_services.receipt_void(staff=world.lto_admin, number=receipt.number, reason="Again")
    receipt.refresh_from_db()
    assert receipt.void_reason == "Spoiled." and receipt.history.filter(kind="voided").count() == 1


def test_receipts_cannot_be_deleted(world):
    receipt = pay(assessed_application(world))
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        receipt.payment.delete()
