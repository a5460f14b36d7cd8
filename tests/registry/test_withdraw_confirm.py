"""Withdrawing an application goes on the ledger for good: the owner confirms it first."""

from __future__ import annotations

from django.urls import reverse

from ledger.models import LedgerEntry
from tests.conftest import filed_application


def test_the_withdraw_button_leads_to_a_confirmation_page_that_says_there_is_no_undo(client, world):
    application = filed_application(world)
    client.force_login(world.owner)
    url = reverse("application-cancel", args=[application.pk])

    detail = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert f'href="{url}"' in detail  # a link to the question, not a one-click form
    assert f'action="{url}"' not in detail

    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "There is no undo." in body and "recorded on the ledger" in body
    assert 'name="confirm"' in body
    application.refresh_from_db()
    assert application.status == "submitted"


def test_withdrawing_without_ticking_the_box_changes_nothing(client, world):
    application = filed_application(world)
    entries = LedgerEntry.objects.count()
    client.force_login(world.owner)

    response = client.post(reverse("application-cancel", args=[application.pk]), {})

    assert response.status_code == 422
    assert "Tick the box to confirm" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.status_changes.filter(to_status="cancelled").count() == 0
    assert LedgerEntry.objects.count() == entries


def test_a_confirmed_withdrawal_is_recorded_with_the_owners_reason(client, world):
    application = filed_application(world)
    client.force_login(world.owner)

    response = client.post(
        reverse("application-cancel", args=[application.pk]),
        {"confirm": "on", "reason": "Sold the car before it was registered."},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("application-detail", args=[application.pk])
    application.refresh_from_db()
    assert application.status == "cancelled"
    change = application.status_changes.get(to_status="cancelled")
    assert change.reason == "Sold the car before it was registered."


def test_the_confirmation_page_of_an_application_that_cannot_be_withdrawn_says_so(client, world):
    application = filed_application(world)
    client.force_login(world.owner)
    url = reverse("application-cancel", args=[application.pk])
    client.post(url, {"confirm": "on"})

    response = client.get(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("application-detail", args=[application.pk])
    assert "can no longer be withdrawn" in response.content.decode()


def test_someone_elses_withdrawal_page_is_404(client, world):
    application = filed_application(world, owner=world.other_owner)
    client.force_login(world.owner)

    assert client.get(reverse("application-cancel", args=[application.pk])).status_code == 404
