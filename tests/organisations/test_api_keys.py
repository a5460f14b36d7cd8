"""API keys: issued by the right people, stored hashed, refused when revoked or expired."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from kernel.errors import PermissionDenied
from organisations.models import ApiKey
from organisations.services import api_key_create, api_key_revoke
from tests.conftest import sent_for_clearance


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(world):
    key, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="HPG MVIS", scopes=["read"]
    )

    _, prefix, secret = plaintext.split("_", 2)
    assert plaintext.startswith("tln_") and len(prefix) == 8 and len(secret) >= 40
    key.refresh_from_db()
    assert key.prefix == prefix
    assert key.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in ApiKey.objects.values().get(pk=key.pk).values()]
    assert not any(secret in value for value in stored)


def test_lto_staff_may_issue_a_key_for_any_organisation(world):
    key, _ = api_key_create(
        organisation_id=world.insurer.pk, admin=world.lto_admin, name="COC feed", scopes=["read"]
    )
    assert key.organisation == world.insurer


def test_a_decide_key_is_issued_only_by_someone_who_acts_for_the_organisation(world):
    # A key acts as its issuer: an LTO-issued decide key for the insurer could never decide.
    with pytest.raises(ValidationError) as error:
        api_key_create(
            organisation_id=world.insurer.pk,
            admin=world.lto_admin,
            name="COC feed",
            scopes=["read", "decide"],
        )

    assert list(error.value.message_dict) == ["scopes"]
    assert "you do not act for this organisation" in error.value.message_dict["scopes"][0]
    assert not ApiKey.objects.exists()


def test_a_decide_key_from_the_organisations_admin_claims(world):
    _, requests = sent_for_clearance(world)
    _, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["decide"]
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    response = api.post(f"/api/v1/clearances/{requests['HPG'].pk}/claim/")

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("who", ["hpg_officer", "insurer_officer", "owner"])
def test_only_the_organisations_admins_or_lto_staff_may_issue_keys(world, who):
    with pytest.raises(PermissionDenied):
        api_key_create(
            organisation_id=world.hpg.pk, admin=getattr(world, who), name="x", scopes=["read"]
        )
    assert not ApiKey.objects.exists()


def test_a_key_needs_a_name_known_scopes_and_a_future_expiry(world):
    with pytest.raises(ValidationError) as error:
        api_key_create(
            organisation_id=world.hpg.pk,
            admin=world.hpg_admin,
            name=" ",
            scopes=["write"],
            expires_at=timezone.now() - dt.timedelta(days=1),
        )
    assert set(error.value.message_dict) == {"name", "scopes", "expires_at"}


def test_a_revoked_key_stops_working_at_once(world):
    key, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["read"]
    )
    client = APIClient(HTTP_X_API_KEY=plaintext)
    assert client.get("/api/v1/clearances/").status_code == 200

    api_key_revoke(key_id=key.pk, admin=world.hpg_admin)

    assert client.get("/api/v1/clearances/").status_code == 401


def test_another_organisations_admin_cannot_revoke_a_key(world):
    key, _ = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["read"]
    )
    with pytest.raises(PermissionDenied):
        api_key_revoke(key_id=key.pk, admin=world.insurer_officer)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_last_used_is_written_at_most_once_a_minute(world, monkeypatch):
    key, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["read"]
    )
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    client.get("/api/v1/clearances/")
    key.refresh_from_db()
    first = key.last_used_at
    client.get("/api/v1/clearances/")
    key.refresh_from_db()
    assert first is not None and key.last_used_at == first

    # Two minutes later (the shared cache also remembers the last use, so the clock moves
    # rather than the row).
    later = first + dt.timedelta(minutes=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    client.get("/api/v1/clearances/")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_a_key_whose_creator_was_deactivated_is_refused(world):
    _, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["read"]
    )
    world.hpg_admin.is_active = False
    world.hpg_admin.save(update_fields=["is_active"])

    response = APIClient(HTTP_X_API_KEY=plaintext).get("/api/v1/clearances/")

    assert response.status_code == 401
