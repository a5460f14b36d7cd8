"""The official receipt reaches a Filipino-reading payer in Filipino, amounts with the peso
sign, in Manila time: the e-mail, its web notification and the PDF it carries."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone, translation

from kernel import i18n
from payments.receipt_pdf import render_receipt
from tests.payments.receipts import assessed_application, pay
from tests.payments.test_receipts import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


@pytest.fixture(autouse=True)
def bilingual(settings):
    # The site's languages (settings' i18n block comes with the language switch, issue 19).
    settings.LANGUAGES = [("en", "English"), ("fil", "Filipino")]


@pytest.fixture
def owner_reads_filipino(world, monkeypatch):
    # Stands in for the choice the language switch stores per user (issue 19, another branch).
    monkeypatch.setattr(
        i18n, "stored_language", lambda user: "fil" if user.pk == world.owner.pk else None
    )


def test_a_filipino_reading_payer_gets_the_receipt_in_filipino(
    world, owner_reads_filipino, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = pay(assessed_application(world))

    (message,) = mail.outbox
    assert message.subject == f"[Talaan] Opisyal na resibo {receipt.number}"
    assert receipt.emailed_as.body == (
        f"Natanggap namin ang ₱3,254.00 para sa aplikasyong {receipt.application_reference}. "
        f"Nakalakip ang iyong opisyal na resibo {receipt.number}."
    )
    ((_name, content, _type),) = message.attachments
    text = pdf_text(content)
    for expected in (
        "Republika ng Pilipinas",
        "Land Transportation Office",  # the agency's name, as the law writes it
        "OPISYAL NA RESIBO",
        f"Blg. {receipt.number}",
        "KABUUAN",
        "₱3,254.00",
        "HINDI KUMPIRMADO",
        f"{timezone.localtime(receipt.issued_at):%H:%M}",  # Manila time
    ):
        assert expected in text, expected


def test_the_same_receipt_prints_in_english_for_an_english_reader(world):
    receipt = pay(assessed_application(world))

    with translation.override("en"):
        text = pdf_text(render_receipt(receipt))

    assert "OFFICIAL RECEIPT" in text and "TOTAL" in text and "₱3,254.00" in text
    assert "KABUUAN" not in text
