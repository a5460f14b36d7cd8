"""Fixtures for the REST API: clients for sessions and for keys, and a two-owner office."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clearance.models import ClearanceRequest
from organisations.models import ApiKey
from organisations.services import api_key_create
from registry.models import RegistrationApplication
from tests.conftest import World, filed_application, sent_for_clearance


@dataclass
class Office:
    world: World
    application: RegistrationApplication
    requests: dict[str, ClearanceRequest]
    other_application: RegistrationApplication
    other_requests: dict[str, ClearanceRequest]
    keys: dict[str, str]


def issue_key(world: World, *, scopes: list[str], name: str = "claims system") -> str:
    _, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name=name, scopes=scopes
    )
    return plaintext


@pytest.fixture
def office(world) -> Office:
    """The owner's and the other owner's applications, both sent to every organisation, and
    HPG keys of each kind."""
    application, requests = sent_for_clearance(world)
    other_application, other_requests = sent_for_clearance(
        world, filed_application(world, owner=world.other_owner)
    )
    keys = {
        "hpg_read_key": issue_key(world, scopes=["read"]),
        "hpg_decide_key": issue_key(world, scopes=["read", "decide"]),
        "revoked_key": issue_key(world, scopes=["read", "decide"]),
        "expired_key": issue_key(world, scopes=["read", "decide"]),
    }
    ApiKey.objects.filter(prefix=keys["revoked_key"].split("_")[1]).update(
        revoked_at=timezone.now()
    )
    ApiKey.objects.filter(prefix=keys["expired_key"].split("_")[1]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return Office(world, application, requests, other_application, other_requests, keys)


def client_for(office: Office, caller: str) -> APIClient:
    """A client signed in as a person of the world, or carrying one of the office's keys."""
    client = APIClient()
    if caller in office.keys:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {office.keys[caller]}")
    elif caller != "anonymous":
        client.force_login(getattr(office.world, caller))
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
