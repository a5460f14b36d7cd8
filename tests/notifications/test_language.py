"""The language a person reads Talaan in: chosen from the browser at first, then by the
header's switch, remembered per person and applied at sign-in (notifications.language)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.language import language_of
from notifications.models import LanguagePreference, Notification
from notifications.senders import send_email

pytestmark = pytest.mark.django_db

# Words of the sign-in page in each language (locale/fil/LC_MESSAGES/django.po).
FILIPINO = "Mag-sign in"
ENGLISH = "Sign in"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("fil", "fil"), ("fil-PH,en;q=0.5", "fil"), ("tl", "fil"), ("en-US,en;q=0.9", "en")],
)
def test_a_first_visit_reads_the_browser_language(client, accept_language, expected):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response["Content-Language"] == expected
    assert f'<html lang="{expected}">' in response.content.decode()
    assert (FILIPINO in response.content.decode()) == (expected == "fil")


def test_the_switch_works_without_script_and_is_remembered_for_the_signed_in_person(client, world):
    client.force_login(world.owner)

    response = client.post(reverse("set-language"), {"language": "fil", "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fil"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 365 * 24 * 3600
    assert language_of(world.owner.pk) == "fil"
    page = client.get("/").content.decode()
    assert "Aking mga aplikasyon" in page  # "My applications"
    assert 'aria-pressed="true" data-testid="language-fil"' in page


def test_an_unknown_language_changes_nothing(client, world):
    client.force_login(world.owner)

    client.post(reverse("set-language"), {"language": "xx", "next": "/"})

    assert not LanguagePreference.objects.filter(user=world.owner).exists()


def test_the_saved_choice_is_applied_at_sign_in_on_another_browser(client, world):
    LanguagePreference.objects.create(user=world.owner, language="fil")
    world.owner.set_password("pass-for-the-test")
    world.owner.save(update_fields=["password"])

    response = client.post(
        reverse("login"),
        {"username": world.owner.username, "password": "pass-for-the-test"},
        HTTP_ACCEPT_LANGUAGE="en-US",
    )

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fil"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert page["Content-Language"] == "fil"


def test_a_page_costs_no_query_for_the_language(client, world):
    """The cookie carries the choice: the same page costs the same queries in both languages."""
    client.force_login(world.owner)
    client.get("/")
    with CaptureQueriesContext(connection) as english:
        client.get("/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fil"
    with CaptureQueriesContext(connection) as filipino:
        assert client.get("/")["Content-Language"] == "fil"
    assert len(filipino.captured_queries) == len(english.captured_queries)
    assert not [q for q in filipino.captured_queries if "languagepreference" in q["sql"]]


def test_an_email_is_written_in_the_recipients_language(world):
    LanguagePreference.objects.create(user=world.owner, language="fil")
    notification = Notification.objects.create(
        recipient=world.owner, event="test.language", title="Approved", link="/x/"
    )

    send_email(notification, "owner@example.ph")

    (email,) = mail.outbox
    assert email.subject == "[Talaan] Approved"
    assert email.body.startswith("Magandang araw,")
    assert "Buksan ito sa Talaan: http" in email.body
    assert 'lang="fil"' in email.alternatives[0][0]
