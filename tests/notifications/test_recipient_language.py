"""Each person is told in their own language, whatever the language of whoever caused it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import translation

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from kernel import i18n
from notifications.models import Notification
from tests.conftest import findings_for, sent_for_clearance


@pytest.fixture(autouse=True)
def bilingual(settings):
    # The site's languages (settings' i18n block comes with the language switch, issue 19).
    settings.LANGUAGES = [("en", "English"), ("fil", "Filipino")]


@pytest.fixture
def owner_reads_filipino(world, monkeypatch):
    # Stands in for the choice the language switch stores per user (issue 19, another
    # branch): the owner chose Filipino, everyone else never chose.
    chosen = {world.owner.pk: "fil"}
    monkeypatch.setattr(i18n, "stored_language", lambda user: chosen.get(user.pk))


@pytest.fixture
def claimed(world):
    _application, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    Notification.objects.all().delete()
    return request


def test_a_decision_tells_the_owner_in_filipino_and_the_lto_in_english(
    world, claimed, owner_reads_filipino, eager_celery, django_capture_on_commit_callbacks
):
    reference = claimed.application.reference

    # The HPG officer works in Filipino; that must not decide anybody else's language.
    with translation.override("fil"), django_capture_on_commit_callbacks(execute=True):
        clearance_services.clearance_decide(
            request_id=claimed.pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.APPROVED,
            remarks="Tugma ang mga numero.",
            findings=findings_for(claimed),
        )

    titles = dict(Notification.objects.values_list("recipient__username", "title"))
    assert titles == {
        "owner.juan": f"Aprubado ang HPG clearance para sa {reference}",
        "lto.admin": f"HPG clearance approved for {reference}",
    }
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {
        "owner.juan@example.ph": f"[Talaan] Aprubado ang HPG clearance para sa {reference}",
        "lto.admin@example.ph": f"[Talaan] HPG clearance approved for {reference}",
    }


def test_a_recipient_without_a_choice_reads_the_site_default(world, settings):
    settings.LANGUAGE_CODE = "en"

    assert i18n.user_language(world.owner) == "en"


def test_a_choice_the_site_does_not_offer_falls_back_to_the_default(world, monkeypatch):
    monkeypatch.setattr(i18n, "stored_language", lambda user: "xx")

    assert i18n.user_language(world.owner) == "en"


def test_dates_are_manila_days_and_amounts_pesos_in_each_language():
    # 17:00 UTC on New Year's Eve is already 1 January in Manila.
    moment = dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)

    assert i18n.render(i18n.manila_date(moment), "en") == "01 Jan 2027"
    assert i18n.render(i18n.manila_date(moment), "fil") == "01 Ene 2027"
    assert i18n.render(i18n.manila_date(moment, long=True), "en") == "01 January 2027"
    assert i18n.render(i18n.manila_date(moment, long=True), "fil") == "01 Enero 2027"
    assert i18n.render(i18n.manila_time(moment), "fil") == "01 Ene 2027 01:00"
    assert i18n.pesos(160000) == "₱1,600.00"
    assert i18n.pesos_for_sms(160000) == "PHP 1,600.00"
