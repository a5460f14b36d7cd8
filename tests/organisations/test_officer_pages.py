"""An org admin's officers list: deactivation is confirmed and can be undone; an invited
officer shows as invited until they set their password, and can be sent the link again."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from organisations.models import Membership

INVITE = {
    "username": "new.officer",
    "first_name": "Nina",
    "last_name": "Ramos",
    "email": "nina@example.ph",
    "role": "officer",
}


@pytest.fixture
def invited(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.hpg_admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("organisation"), INVITE).status_code == 302
    return Membership.objects.select_related("user").get(user__username="new.officer")


def _status_cell(body: str, username: str) -> str:
    row = body.split(f'<td data-label="Username">{username}</td>', 1)[1].split("</tr>", 1)[0]
    return row.split('data-label="Status">', 1)[1].split("</td>", 1)[0]


def test_an_invited_officer_shows_invited_with_a_resend_until_they_set_a_password(
    client, world, invited
):
    body = client.get(reverse("organisation")).content.decode()
    assert "Invited" in _status_cell(body, "new.officer")
    assert "Active" not in _status_cell(body, "new.officer")
    assert reverse("membership-resend", args=[invited.pk]) in body
    # An officer who has a password of their own is active, with nothing to resend.
    assert _status_cell(body, world.hpg_officer.username) == "Active"
    hpg_officer = Membership.objects.get(user=world.hpg_officer)
    assert reverse("membership-resend", args=[hpg_officer.pk]) not in body

    invited.user.set_password("chosen-by-nina-2026")
    invited.user.save(update_fields=["password"])
    body = client.get(reverse("organisation")).content.decode()
    assert _status_cell(body, "new.officer") == "Active"
    assert reverse("membership-resend", args=[invited.pk]) not in body


def test_resending_an_invitation_mails_a_fresh_link(
    client, world, invited, django_capture_on_commit_callbacks
):
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("membership-resend", args=[invited.pk]))

    assert response.status_code == 302
    assert len(mail.outbox) == sent + 1
    assert mail.outbox[-1].to == ["nina@example.ph"]
    assert "/password-reset/" in mail.outbox[-1].body


def test_an_accepted_invitation_is_not_resent(
    client, world, invited, django_capture_on_commit_callbacks
):
    invited.user.set_password("chosen-by-nina-2026")
    invited.user.save(update_fields=["password"])
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("membership-resend", args=[invited.pk]), follow=True)

    assert "already accepted the invitation" in response.content.decode()
    assert len(mail.outbox) == sent


def test_deactivating_asks_first_and_a_click_alone_changes_nothing(client, world):
    officer = Membership.objects.get(user=world.hpg_officer)
    client.force_login(world.hpg_admin)
    url = reverse("membership-deactivate", args=[officer.pk])

    listing = client.get(reverse("organisation")).content.decode()
    assert f'href="{url}"' in listing and f'action="{url}"' not in listing
    page = client.get(url)
    assert page.status_code == 200 and "You can reactivate them later" in page.content.decode()

    refused = client.post(url, {})
    assert refused.status_code == 422
    assert "Tick the box to confirm the deactivation." in refused.content.decode()
    officer.refresh_from_db()
    assert officer.is_active

    assert client.post(url, {"confirm": "on"}).status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active


def test_a_deactivated_officer_can_be_reactivated_by_the_org_admin(client, world):
    officer = Membership.objects.get(user=world.hpg_officer)
    client.force_login(world.hpg_admin)
    client.post(reverse("membership-deactivate", args=[officer.pk]), {"confirm": "on"})
    listing = client.get(reverse("organisation")).content.decode()
    assert "Deactivated" in _status_cell(listing, world.hpg_officer.username)
    assert reverse("membership-reactivate", args=[officer.pk]) in listing

    response = client.post(reverse("membership-reactivate", args=[officer.pk]))

    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.is_active
    listing = client.get(reverse("organisation")).content.decode()
    assert _status_cell(listing, world.hpg_officer.username) == "Active"


@pytest.mark.parametrize("name", ["membership-reactivate", "membership-resend"])
def test_another_organisations_admin_or_an_officer_cannot_reactivate_or_resend(client, world, name):
    officer = Membership.objects.get(user=world.hpg_officer)
    officer.is_active = False
    officer.save(update_fields=["is_active"])

    # The LTO's admin administers another organisation; the officer administers none.
    for intruder in (world.lto_admin, world.insurer_officer, world.hpg_officer):
        client.force_login(intruder)
        assert client.post(reverse(name, args=[officer.pk])).status_code == 404
    officer.refresh_from_db()
    assert not officer.is_active
