"""Organisation admins and LTO staff issue and revoke API keys in the browser.

Through the same door people use: the pages, then the API with the key they were shown.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from organisations.models import ApiKey
from tests.conftest import sent_for_clearance
from tests.factories import MembershipFactory, UserFactory

SECRET = re.compile(r'id="api-key-secret">(tln_[^<]+)<')


def _issue(client, organisation, **fields):
    data = {"name": "claims system", "scopes": ["read", "decide"], **fields}
    return client.post(reverse("api-keys", args=[organisation.pk]), data)


def _api(secret: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


@pytest.fixture
def insurer_admin(world):
    user = UserFactory(username="insurer.admin")
    MembershipFactory(user=user, organisation=world.insurer, role="admin")
    return user


def test_issued_key_is_shown_once_and_then_reads_the_organisations_clearances(client, world):
    _, requests = sent_for_clearance(world)
    client.force_login(world.hpg_admin)

    response = _issue(client, world.hpg)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "it will not be shown again" in page
    secret = SECRET.search(page).group(1)
    key = ApiKey.objects.get(organisation=world.hpg)
    assert secret.startswith(f"tln_{key.prefix}_")
    assert key.scopes == ["decide", "read"]
    assert key.created_by == world.hpg_admin
    # The list shows the key by its prefix, never its secret again.
    listing = client.get(reverse("api-keys", args=[world.hpg.pk])).content.decode()
    assert f"tln_{key.prefix}_" in listing
    assert secret not in listing
    assert "Active" in listing

    answer = _api(secret).get("/api/v1/clearances/")

    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [requests["HPG"].pk]
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_revoking_a_key_asks_first_then_the_api_refuses_it(client, world):
    client.force_login(world.hpg_admin)
    secret = SECRET.search(_issue(client, world.hpg).content.decode()).group(1)
    key = ApiKey.objects.get(organisation=world.hpg)
    assert _api(secret).get("/api/v1/clearances/").status_code == 200
    url = reverse("api-key-revoke", args=[world.hpg.pk, key.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert b"Revoke the key" in confirm.content
    key.refresh_from_db()
    assert key.revoked_at is None

    response = client.post(url)

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    refused = _api(secret).get("/api/v1/clearances/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key was revoked."
    assert b"Revoked" in client.get(reverse("api-keys", args=[world.hpg.pk])).content


def test_lto_admin_issues_a_key_for_any_organisation(client, world):
    _, requests = sent_for_clearance(world)
    client.force_login(world.lto_admin)
    assert world.insurer.name.encode() in client.get(reverse("api-key-index")).content

    response = _issue(client, world.insurer, scopes=["read"])

    secret = SECRET.search(response.content.decode()).group(1)
    answer = _api(secret).get("/api/v1/clearances/")
    assert [row["id"] for row in answer.json()["results"]] == [requests["INSURANCE"].pk]
    # A read key cannot claim.
    claim = _api(secret).post(f"/api/v1/clearances/{requests['INSURANCE'].pk}/claim/")
    assert claim.status_code == 403


def test_lto_staff_are_refused_a_decide_key_for_another_organisation_with_a_reason(client, world):
    # Such a key acts as its LTO issuer, who does not act for the insurer: every claim and
    # decision with it would be 403, so it is not issued.
    client.force_login(world.lto_admin)

    response = _issue(client, world.insurer, scopes=["read", "decide"])

    assert response.status_code == 422
    [message] = response.context["form"].errors["scopes"]
    assert "you do not act for this organisation" in message
    assert message.encode() in response.content.replace(b"&#x27;", b"'")
    assert not ApiKey.objects.exists()


def test_another_organisations_admin_gets_404_for_its_keys_and_changes_nothing(
    client, world, insurer_admin
):
    client.force_login(world.hpg_admin)
    _issue(client, world.hpg)
    key = ApiKey.objects.get(organisation=world.hpg)
    client.force_login(insurer_admin)

    listing = client.get(reverse("api-keys", args=[world.hpg.pk]))
    issue = _issue(client, world.hpg)
    revoke_own_org_path = client.post(reverse("api-key-revoke", args=[world.insurer.pk, key.pk]))
    revoke = client.post(reverse("api-key-revoke", args=[world.hpg.pk, key.pk]))

    assert [r.status_code for r in (listing, issue, revoke_own_org_path, revoke)] == [404] * 4
    assert key.prefix.encode() not in listing.content + revoke.content
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


def test_an_officer_of_the_organisation_is_refused_with_403(client, world):
    client.force_login(world.hpg_admin)
    _issue(client, world.hpg)
    key = ApiKey.objects.get(organisation=world.hpg)
    client.force_login(world.hpg_officer)

    responses = [
        client.get(reverse("api-key-index")),
        client.get(reverse("api-keys", args=[world.hpg.pk])),
        _issue(client, world.hpg),
        client.post(reverse("api-key-revoke", args=[world.hpg.pk, key.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 4
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"name": ""}, "name", "This field is required."),
        ({"scopes": []}, "scopes", "This field is required."),
        ({"scopes": ["admin"]}, "scopes", "Select a valid choice."),
        ({"expires_at": "next tuesday"}, "expires_at", "Enter a valid date/time."),
        ({"name": "   "}, "name", "This field is required."),
    ],
)
def test_refused_input_is_shown_again_with_a_message(client, world, fields, field, message):
    client.force_login(world.hpg_admin)

    response = _issue(client, world.hpg, **fields)

    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert SECRET.search(response.content.decode()) is None
    assert not ApiKey.objects.exists()


def test_an_empty_post_is_refused_with_messages_not_an_error(client, world):
    client.force_login(world.hpg_admin)

    response = client.post(reverse("api-keys", args=[world.hpg.pk]))

    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"name", "scopes"}
    assert not ApiKey.objects.exists()


def test_an_expiry_in_the_past_is_refused_by_the_service_and_shown(client, world):
    client.force_login(world.hpg_admin)
    past = timezone.localtime() - dt.timedelta(hours=1)

    response = _issue(client, world.hpg, expires_at=past.strftime("%Y-%m-%dT%H:%M"))

    assert response.status_code == 422
    assert response.context["form"].errors["expires_at"] == ["The expiry must be in the future."]
    assert not ApiKey.objects.exists()


def test_a_key_with_an_expiry_shows_it_and_works_until_then(client, world, monkeypatch):
    client.force_login(world.hpg_admin)
    later = timezone.localtime() + dt.timedelta(days=30)

    response = _issue(client, world.hpg, expires_at=later.strftime("%Y-%m-%dT%H:%M"))

    secret = SECRET.search(response.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert abs(key.expires_at - later) < dt.timedelta(minutes=1)
    assert _api(secret).get("/api/v1/clearances/").status_code == 200
    # The clock passes the expiry (the key checked above is cached with its expiry, so the
    # time moves rather than the row).
    after = key.expires_at + dt.timedelta(seconds=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: after)
    assert _api(secret).get("/api/v1/clearances/").status_code == 401
    monkeypatch.undo()  # the admin's session would have expired too
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert b"Expired" in client.get(reverse("api-keys", args=[world.hpg.pk])).content


def test_the_organisation_page_links_its_admin_to_the_keys(client, world):
    client.force_login(world.hpg_admin)

    index = client.get(reverse("api-key-index"))
    page = client.get(reverse("organisation"))

    assert index.status_code == 302
    assert index["Location"] == reverse("api-keys", args=[world.hpg.pk])
    assert reverse("api-keys", args=[world.hpg.pk]).encode() in page.content


@pytest.mark.parametrize("who", ["lto_admin", "hpg_admin"])
def test_the_main_menu_leads_admins_to_the_keys(client, world, who):
    client.force_login(getattr(world, who))
    menu = client.get(reverse("home"), follow=True).content.decode()
    assert f'href="{reverse("api-key-index")}">API keys</a>' in menu


def test_officers_and_owners_have_no_keys_in_their_menu(client, world):
    for person in (world.hpg_officer, world.owner):
        client.force_login(person)
        assert b">API keys</a>" not in client.get(reverse("home"), follow=True).content
