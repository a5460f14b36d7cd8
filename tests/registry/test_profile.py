"""The profile page (issue 19, item 9): a person edits their name and mobile number (a
Philippine mobile, stored as +639XXXXXXXXX) and changes their e-mail address, which takes
effect only through the link sent to the new address; the old address is told."""

from __future__ import annotations

import re
import time
from unittest import mock

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from registry.models import OwnerProfile

PASSWORD = "a-long-test-password-9"

NEW = "juan.new@example.ph"


def _sign_in(client, user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    client.force_login(user)


def _ask_for_new_email(client, django_capture_on_commit_callbacks, email=NEW, password=PASSWORD):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("profile-email"), {"new_email": email, "password": password})


def _link_in(message) -> str:
    return re.search(r"https?://\S+(/profile/email/\S+/)", message.body).group(1)


def test_the_header_and_the_sms_note_lead_to_the_profile(client, world):
    client.force_login(world.owner)
    OwnerProfile.objects.filter(user=world.owner).delete()

    page = client.get(reverse("notifications:preferences")).content.decode()

    profile = reverse("profile")
    assert f'class="who" href="{profile}"' in page
    assert "you have none, so no SMS will be sent" in page
    assert f'<a href="{profile}">Add your mobile number</a>' in page
    assert client.get(profile).status_code == 200


def test_a_person_saves_their_name_and_a_mobile_number_stored_normalised(client, world):
    client.force_login(world.owner)

    response = client.post(
        reverse("profile"),
        {"first_name": "Juan", "last_name": "Dela Cruz", "mobile_number": "0917 123 4567"},
    )

    assert response.status_code == 302
    world.owner.refresh_from_db()
    assert world.owner.get_full_name() == "Juan Dela Cruz"
    assert OwnerProfile.objects.get(user=world.owner).mobile_number == "+639171234567"
    page = client.get(reverse("profile")).content.decode()
    assert "Your profile is saved." in page and 'value="+639171234567"' in page


def test_a_mobile_number_in_international_form_is_accepted(client, world):
    client.force_login(world.lto_admin)  # an officer too, who had no owner profile

    client.post(
        reverse("profile"),
        {"first_name": "Ana", "last_name": "Reyes", "mobile_number": "+63 (918) 765-4321"},
    )

    assert OwnerProfile.objects.get(user=world.lto_admin).mobile_number == "+639187654321"


def test_a_number_that_is_not_a_philippine_mobile_is_refused_and_nothing_changes(client, world):
    client.force_login(world.owner)
    before = world.owner.get_full_name()

    for wrong in ("12345", "0817 123 4567", "+1 415 555 0100"):
        response = client.post(
            reverse("profile"),
            {"first_name": "Changed", "last_name": "Name", "mobile_number": wrong},
        )
        assert response.status_code == 422
        assert "Enter a Philippine mobile number" in response.content.decode()
    world.owner.refresh_from_db()
    assert world.owner.get_full_name() == before


def test_a_new_email_takes_effect_only_from_the_link_and_the_old_address_is_told(
    client, world, django_capture_on_commit_callbacks
):
    _sign_in(client, world.owner)
    old = world.owner.email

    response = _ask_for_new_email(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    world.owner.refresh_from_db()
    assert world.owner.email == old, "changed before it was confirmed"
    to_new = [m for m in mail.outbox if m.to == [NEW]]
    to_old = [m for m in mail.outbox if m.to == [old]]
    assert len(to_new) == 1 and len(to_old) == 1
    assert NEW in to_old[0].body and "/profile/email/" not in to_old[0].body

    link = _link_in(to_new[0])
    client.logout()  # the link may open on another device
    assert client.get(link).status_code == 302
    world.owner.refresh_from_db()
    assert world.owner.email == NEW

    again = client.get(link)
    assert again.status_code == 400
    assert "not valid or was already used" in again.content.decode()


def test_an_expired_email_link_is_refused_and_changes_nothing(
    client, world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_CHANGE_LINK_HOURS = 48
    _sign_in(client, world.owner)
    old = world.owner.email
    _ask_for_new_email(client, django_capture_on_commit_callbacks)
    link = _link_in(next(m for m in mail.outbox if m.to == [NEW]))

    # Two days and an hour later: the clock is the one thing a test cannot wait for.
    later = time.time() + 49 * 3600
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(link)

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    world.owner.refresh_from_db()
    assert world.owner.email == old


def test_a_forged_link_is_refused(client, db):
    response = client.get(reverse("profile-email-confirm", args=["not-a-token"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_an_email_change_needs_the_password_and_a_free_address(
    client, world, django_capture_on_commit_callbacks
):
    _sign_in(client, world.owner)

    wrong = _ask_for_new_email(client, django_capture_on_commit_callbacks, password="nope")
    taken = _ask_for_new_email(
        client, django_capture_on_commit_callbacks, email=world.other_owner.email.upper()
    )

    assert wrong.status_code == 422 and "That is not your password." in wrong.content.decode()
    assert taken.status_code == 422
    assert "Another account uses this e-mail address." in taken.content.decode()
    assert mail.outbox == []
    assert get_user_model().objects.get(pk=world.owner.pk).email == world.owner.email


def _sign_up(client, mobile: str):
    return client.post(
        reverse("signup"),
        {
            "username": "ana",
            "first_name": "Ana",
            "last_name": "Reyes",
            "email": "ana@example.ph",
            "password1": "a-Long-pass-phrase-2026",
            "password2": "a-Long-pass-phrase-2026",
            "mobile_number": mobile,
        },
    )


def test_sign_up_checks_and_normalises_the_mobile_number_as_the_profile_does(client, db):
    refused = _sign_up(client, "12345")
    assert refused.status_code == 422
    assert "Enter a Philippine mobile number" in refused.content.decode()
    assert not get_user_model().objects.filter(username="ana").exists()

    assert _sign_up(client, "0917-123-4567").status_code == 200
    assert OwnerProfile.objects.get(user__username="ana").mobile_number == "+639171234567"
