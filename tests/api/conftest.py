"""Fixtures for the REST API: clients for sessions and for keys, and a two-owner office."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.throttling import request_counts_forget
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
    return build_office(world)


def build_office(world: World) -> Office:
    """The rows of `office`; see `office_read_again` for sharing them between tests."""
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


def office_read_again(office: Office, world: World) -> Office:
    """The office as fresh objects, for a test that shares its rows with others (built once in
    a module-scoped fixture): nothing an earlier test did to its objects carries over.

    The keys start with no requests counted (see `forget_request_counts`).
    """
    prefixes = [plaintext.split("_")[1] for plaintext in office.keys.values()]
    keys = ApiKey.objects.filter(prefix__in=prefixes).values_list("pk", flat=True)
    request_counts_forget(scope="key", idents=keys)

    def requests_of(application: RegistrationApplication) -> dict[str, ClearanceRequest]:
        return {request.kind: request for request in application.clearance_requests.all()}

    application = RegistrationApplication.objects.get(pk=office.application.pk)
    other_application = RegistrationApplication.objects.get(pk=office.other_application.pk)
    return Office(
        world,
        application,
        requests_of(application),
        other_application,
        requests_of(other_application),
        dict(office.keys),
    )


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
