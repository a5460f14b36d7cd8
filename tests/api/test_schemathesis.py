"""Schemathesis against the live schema of a real server, with every check it has.

A uvicorn server (tests.api.live_server) runs on loopback over the test database; the schema
is fetched from it (/api/schema/) as an integrator would, and each operation gets a bounded
number of generated requests, valid and invalid, checked with all of schemathesis's checks
(`--checks all`): no server error; a documented status code, content type, body and headers;
invalid requests refused and valid ones accepted; credentials that are missing or wrong
refused. No operation is excluded. Path ids, references and VINs are drawn half the time from
rows that exist, so the 200 answers are exercised too, not only the 404s; cursors and the
vehicles an owner applies for always are (no other value of them can be valid).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from api.idempotency import KEY_PATTERN
from clearance import services as clearance_services
from clearance.models import ClearanceRequest, ClearanceStatusChange
from organisations.services import api_key_create
from registry.models import RegistrationApplication, Vehicle
from tests.api.live_server import live_uvicorn, server_environment
from tests.conftest import (
    World,
    build_world,
    claim_and_approve,
    filed_application,
    sent_for_clearance,
)

# Ten generated requests per operation and caller: with 60-odd operations the two callers' runs
# are the suite's longest test (20 took 75 s of a suite over its 15-minute budget).
MAX_EXAMPLES = 10
# Every check schemathesis has (`--checks all`): conformance of status, content type, body and
# headers; no server error; invalid requests refused and valid ones accepted; a missing
# required header, an unsupported method and a request without credentials refused; and the
# stateful ones, which have nothing to say about a single call.
load_all_checks()
ALL_CHECKS = CHECKS.get_all()


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32's fixture-loaded schemas read and rename ``node._nodeid``, which
    pytest 9 no longer has (it keeps ``_id``); give it the attribute it expects. Only its
    report labels use it. Remove when schemathesis supports pytest 9 here."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module")
def live_api(django_db_setup, tmp_path_factory) -> Iterator[str]:
    """The API on uvicorn over the test database, throttles high enough not to get in the way."""
    env = server_environment(
        connection.settings_dict["NAME"],
        API_THROTTLE_KEY="100000/min",
        API_THROTTLE_USER="100000/min",
    )
    log_path = tmp_path_factory.mktemp("schemathesis") / "uvicorn.log"
    with live_uvicorn(env, log_path) as url:
        yield url


@dataclass
class Caller:
    headers: dict[str, str]
    config: schemathesis.Config


def _config(
    ids: list[int],
    references: list[str],
    vins: list[str],
    tx_ids: list[str],
    cursors: list[str],
    vehicles: list[int],
) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
            # The coverage phase is not bounded by max-examples: on two CPUs it doubles the
            # run (about 60 s more). The fuzzing phase generates valid and invalid requests.
            "phases": {"coverage": {"enabled": False}},
            # A schema-valid request may still be refused by a rule no schema can state (a
            # vehicle that is not yours, findings for another kind of clearance): that is
            # 422, as each operation documents, and so an acceptance here. A 400 is not:
            # it says the request broke the schema.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 422, 429, "5xx"]
                }
            },
            "dictionaries": {
                "ids": {"values": ids},
                "references": {"values": references},
                "vins": {"values": vins},
                "tx_ids": {"values": tx_ids},
                "cursors": {"values": cursors},
                "vehicles": {"values": vehicles},
            },
            "parameters": {
                "path.id": {"dictionary": "ids", "probability": 0.5},
                "path.vin": {"dictionary": "vins", "probability": 0.5},
                "path.tx_id": {"dictionary": "tx_ids", "probability": 0.5},
                "query.reference": {"dictionary": "references", "probability": 0.5},
                "query.vin": {"dictionary": "vins", "probability": 0.5},
                # A cursor is an opaque token: the valid ones are those the server gave out
                # (any other is a 400, tests/api/test_pagination.py). A vehicle to apply for is
                # one of the caller's own (another's is a 422 naming it).
                "query.cursor": {"dictionary": "cursors", "probability": 1.0},
                "body.vehicle": {"dictionary": "vehicles", "probability": 1.0},
            },
        }
    )


def _config_for(
    applications: list[RegistrationApplication],
    clearances: list[ClearanceRequest],
    cursors: list[str],
    owner: AbstractBaseUser,
) -> schemathesis.Config:
    return _config(
        cursors=cursors,
        vehicles=list(Vehicle.objects.filter(owner=owner).values_list("pk", flat=True)),
        ids=[c.pk for c in clearances] + [a.pk for a in applications],
        references=[a.reference for a in applications],
        vins=[a.vehicle.vin for a in applications],
        tx_ids=list(
            ClearanceStatusChange.objects.filter(request__in=clearances).values_list(
                "ledger_tx_id", flat=True
            )
        ),
    )


def _office() -> tuple[World, list[RegistrationApplication], list[ClearanceRequest]]:
    """Applications in several states, with clearances pending, in review and decided."""
    world = build_world()
    pending, requests = sent_for_clearance(world)
    clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    decided, decided_requests = sent_for_clearance(world)
    claim_and_approve(world, decided_requests["HPG"])
    others, other_requests = sent_for_clearance(
        world, filed_application(world, owner=world.other_owner)
    )
    submitted = filed_application(world)
    applications = [pending, decided, others, submitted]
    clearances = [*requests.values(), *decided_requests.values(), *other_requests.values()]
    return world, applications, clearances


PAGED_LISTS = [
    "/api/v1/clearances/",
    "/api/v1/applications/",
    "/api/v1/vehicles/",
    "/api/v1/notifications/",
    "/api/v1/webhooks/",
]


def _cursors(live_api: str, headers: dict[str, str]) -> list[str]:
    """The next-page cursors the server gives this caller for each list it can read."""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    cursors = []
    for path in PAGED_LISTS:
        request = urllib.request.Request(f"{live_api}{path}?page_size=1", headers=headers)
        try:
            with opener.open(request, timeout=10) as response:
                following = json.load(response)["next"]
        except urllib.error.HTTPError:
            continue  # a list this caller may not read
        if following:
            cursors += parse_qs(urlsplit(following).query)["cursor"]
    assert cursors, "no list had a second page to take a cursor from"
    return cursors


def _with_a_fresh_idempotency_key(case) -> None:
    """Give a request its own ``Idempotency-Key``, as the header's description asks of
    clients; generated keys repeat (hypothesis favours short values), and a key sent again
    with another body is rightly refused (422). A malformed key is left as generated."""
    key = (case.headers or {}).get("Idempotency-Key")
    if key is not None and KEY_PATTERN.fullmatch(key):
        case.headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4()}"


def _schema(live_api: str, config: schemathesis.Config):
    return schemathesis.openapi.from_url(f"{live_api}/api/schema/?format=json", config=config)


@pytest.fixture
def hpg_key_caller(live_api, transactional_db) -> Caller:
    world, applications, clearances = _office()
    _, key = api_key_create(
        organisation_id=world.hpg.pk,
        admin=world.hpg_admin,
        name="schemathesis",
        scopes=["read", "decide"],
    )
    headers = {"Authorization": f"Bearer {key}"}
    config = _config_for(applications, clearances, _cursors(live_api, headers), world.owner)
    return Caller(headers, config)


@pytest.fixture
def owner_caller(live_api, transactional_db) -> Caller:
    world, applications, clearances = _office()
    session = SessionStore()
    session["_auth_user_id"] = str(world.owner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = world.owner.get_session_auth_hash()
    session.create()
    # The CSRF pair a page that calls the API would send, so the owner's writes get through.
    token = get_random_string(32)
    cookies = f"sessionid={session.session_key}; csrftoken={token}"
    headers = {"Cookie": cookies, "X-CSRFToken": token}
    config = _config_for(applications, clearances, _cursors(live_api, headers), world.owner)
    return Caller(headers, config)


@pytest.fixture
def schema_for_key(live_api, hpg_key_caller):
    return _schema(live_api, hpg_key_caller.config)


@pytest.fixture
def schema_for_owner(live_api, owner_caller):
    return _schema(live_api, owner_caller.config)


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # The data fixtures are per test on purpose: they are what the server reads.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

key_schema = schemathesis.pytest.from_fixture("schema_for_key")
owner_schema = schemathesis.pytest.from_fixture("schema_for_owner")


@key_schema.parametrize()
@BOUNDED
def test_the_api_answers_an_organisation_key_as_its_schema_says(case, hpg_key_caller):
    _with_a_fresh_idempotency_key(case)
    case.call_and_validate(headers=hpg_key_caller.headers, checks=ALL_CHECKS)


@owner_schema.parametrize()
@BOUNDED
def test_the_api_answers_a_signed_in_owner_as_its_schema_says(case, owner_caller):
    _with_a_fresh_idempotency_key(case)
    case.call_and_validate(headers=owner_caller.headers, checks=ALL_CHECKS)


def test_the_live_schema_is_the_one_generated_here(live_api, transactional_db):
    # Guards the premise: the server under test serves this checkout's schema.
    import urllib.request

    from drf_spectacular.generators import SchemaGenerator

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{live_api}/api/schema/?format=json", timeout=10) as response:
        served = json.load(response)
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert set(served["paths"]) == set(generated["paths"])
    assert served["components"]["headers"].keys() == generated["components"]["headers"].keys()


def test_the_owner_session_gets_past_csrf_so_their_writes_are_exercised(live_api, owner_caller):
    # Without the CSRF pair every generated owner POST would stop at 403, testing nothing.
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"{live_api}/api/v1/vehicles/",
        data=b"{}",
        method="POST",
        headers={**owner_caller.headers, "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=10)
    assert refused.value.code == 400
    assert json.load(refused.value)["code"] == "invalid"
