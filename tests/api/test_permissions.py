"""Every caller against every operation: the right status, and nothing of anyone else's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import pytest
from rest_framework.test import APIClient

from clearance import services as clearance_services
from notifications.models import WebhookSubscription
from notifications.services import notify
from registry import services as registry_services
from registry.events import APPLICATION_RETURNED
from tests.api.conftest import Office, build_office, client_for, office_read_again
from tests.conftest import (
    build_world,
    rows_for_the_module,
    with_required_documents,
    world_from_database,
)
from tests.factories import VehicleFactory, hpg_findings

CALLERS = [
    "owner",
    "other_owner",
    "hpg_officer",
    "hpg_admin",
    "insurer_officer",
    "lto_admin",
    "hpg_read_key",
    "hpg_decide_key",
    "revoked_key",
    "expired_key",
    "anonymous",
]
UNAUTHENTICATED = {"revoked_key": 401, "expired_key": 401, "anonymous": 401}
KEYS_REFUSED = {"hpg_read_key": 403, "hpg_decide_key": 403}
# Owner operations: people who own vehicles, signed in; not organisation staff, not keys.
NOT_OWNERS = {
    "hpg_officer": 403,
    "hpg_admin": 403,
    "insurer_officer": 403,
    "lto_admin": 403,
    **KEYS_REFUSED,
    **UNAUTHENTICATED,
}
# Webhook management: the HPG admin, LTO staff (for the LTO's own) and the HPG admin's keys.
NOT_WEBHOOK_MANAGERS = {
    "owner": 403,
    "other_owner": 403,
    "hpg_officer": 403,
    "insurer_officer": 403,
    **UNAUTHENTICATED,
}
# Reads of the HPG subscription; LTO staff manage only the LTO's subscriptions.
HPG_WEBHOOK_READ = {"lto_admin": 404, **NOT_WEBHOOK_MANAGERS}
HPG_WEBHOOK_WRITE = {"hpg_read_key": 403, **HPG_WEBHOOK_READ}
# Ledger reads of the owner's HPG clearance: its owner, LTO staff, HPG people and keys.
HPG_RECEIPT = {"other_owner": 404, "insurer_officer": 404, **UNAUTHENTICATED}


def _list(client: APIClient, office: Office):
    return client.get("/api/v1/clearances/")


def _detail(client: APIClient, office: Office):
    return client.get(f"/api/v1/clearances/{office.requests['HPG'].pk}/")


def _claim(client: APIClient, office: Office):
    return client.post(f"/api/v1/clearances/{office.requests['HPG'].pk}/claim/")


def _decide(client: APIClient, office: Office):
    request = office.requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=office.world.hpg_officer)
    findings = asdict(hpg_findings(request.application.vehicle))
    payload = {"decision": "approved", "remarks": "Checked.", "findings": findings}
    return client.post(f"/api/v1/clearances/{request.pk}/decide/", payload, format="json")


def _status(client: APIClient, office: Office):
    return client.get("/api/v1/status/", {"reference": office.application.reference})


def _applications(client: APIClient, office: Office):
    return client.get("/api/v1/applications/")


def _application(client: APIClient, office: Office):
    return client.get(f"/api/v1/applications/{office.application.pk}/")


def _vehicles(client: APIClient, office: Office):
    return client.get("/api/v1/vehicles/")


def _vehicle_create(client: APIClient, office: Office):
    payload = {
        "vin": "JTDBT923X71234567",
        "engine_number": "1NZX998877",
        "chassis_number": "NCP93-7654321",
        "make": "Toyota",
        "model": "Yaris",
        "year": 2024,
        "body_type": "hatchback",
        "colour": "Red",
        "fuel": "gasoline",
    }
    return client.post("/api/v1/vehicles/", payload, format="json")


def _vehicle(client: APIClient, office: Office):
    return client.get(f"/api/v1/vehicles/{office.application.vehicle_id}/")


def _application_create(client: APIClient, office: Office):
    vehicle = VehicleFactory(owner=office.world.owner)
    payload = {"vehicle": vehicle.pk, "type": "new"}
    return client.post("/api/v1/applications/", payload, format="json")


def _application_submit(client: APIClient, office: Office):
    owner = office.world.owner
    vehicle = VehicleFactory(owner=owner)
    draft = registry_services.application_create(applicant=owner, vehicle_id=vehicle.pk, type="new")
    with_required_documents(draft)
    return client.post(f"/api/v1/applications/{draft.pk}/submit/")


def _application_resubmit(client: APIClient, office: Office):
    world = office.world
    vehicle = VehicleFactory(owner=world.owner)
    application = registry_services.application_create(
        applicant=world.owner, vehicle_id=vehicle.pk, type="new"
    )
    with_required_documents(application)
    registry_services.application_submit(application_id=application.pk, actor=world.owner)
    registry_services.application_start_review(application_id=application.pk, actor=world.lto_admin)
    registry_services.application_return(
        application_id=application.pk, actor=world.lto_admin, reason="Blurred invoice."
    )
    path = f"/api/v1/applications/{application.pk}/resubmit/"
    return client.post(path, {"note": "Clearer scan."}, format="json")


def _hpg_tx_id(office: Office) -> str:
    return office.requests["HPG"].status_changes.get().ledger_tx_id


def _receipt(client: APIClient, office: Office):
    return client.get(f"/api/v1/ledger/receipts/{_hpg_tx_id(office)}/")


def _proof(client: APIClient, office: Office):
    return client.get(f"/api/v1/ledger/receipts/{_hpg_tx_id(office)}/proof/")


def _vehicle_history(client: APIClient, office: Office):
    return client.get(f"/api/v1/ledger/vehicles/{office.application.vehicle.vin}/history/")


def _notifications(client: APIClient, office: Office):
    return client.get("/api/v1/notifications/")


def _notification_read(client: APIClient, office: Office):
    [notification] = notify(
        recipients=[office.world.owner],
        event=APPLICATION_RETURNED,
        title="Please correct",
        body="",
        link="/",
    )
    return client.post(f"/api/v1/notifications/{notification.pk}/read/")


def _notifications_read_all(client: APIClient, office: Office):
    return client.post("/api/v1/notifications/read-all/")


def _hpg_subscription(office: Office) -> WebhookSubscription:
    return WebhookSubscription.objects.get(organisation=office.world.hpg)


def _webhooks(client: APIClient, office: Office):
    return client.get("/api/v1/webhooks/")


def _webhook_create(client: APIClient, office: Office):
    payload = {"url": "https://93.184.215.14/talaan", "events": ["clearance.decided"]}
    return client.post("/api/v1/webhooks/", payload, format="json")


def _webhook(client: APIClient, office: Office):
    return client.get(f"/api/v1/webhooks/{_hpg_subscription(office).pk}/")


def _webhook_delete(client: APIClient, office: Office):
    return client.delete(f"/api/v1/webhooks/{_hpg_subscription(office).pk}/")


def _webhook_pause(client: APIClient, office: Office):
    return client.post(f"/api/v1/webhooks/{_hpg_subscription(office).pk}/pause/")


def _webhook_resume(client: APIClient, office: Office):
    return client.post(f"/api/v1/webhooks/{_hpg_subscription(office).pk}/resume/")


def _webhook_deliveries(client: APIClient, office: Office):
    return client.get(f"/api/v1/webhooks/{_hpg_subscription(office).pk}/deliveries/")


# caller -> expected status; callers not named get the operation's default.
MATRIX: dict[str, tuple[Callable, int, dict[str, int]]] = {
    "list_clearances": (_list, 200, UNAUTHENTICATED),
    "clearance_detail": (
        _detail,
        200,
        {"other_owner": 404, "insurer_officer": 404, **UNAUTHENTICATED},
    ),
    "claim": (
        _claim,
        200,
        {
            "owner": 403,
            "other_owner": 404,
            "insurer_officer": 404,
            "lto_admin": 403,
            "hpg_read_key": 403,
            **UNAUTHENTICATED,
        },
    ),
    "decide": (
        _decide,
        200,
        {
            "owner": 403,
            "other_owner": 404,
            "insurer_officer": 404,
            "lto_admin": 403,
            "hpg_read_key": 403,
            **UNAUTHENTICATED,
        },
    ),
    "status_lookup": (_status, 200, {"other_owner": 404, **UNAUTHENTICATED}),
    "list_applications": (
        _applications,
        200,
        {"hpg_read_key": 403, "hpg_decide_key": 403, **UNAUTHENTICATED},
    ),
    "application_detail": (
        _application,
        200,
        {"other_owner": 404, "hpg_read_key": 403, "hpg_decide_key": 403, **UNAUTHENTICATED},
    ),
    "list_vehicles": (_vehicles, 200, NOT_OWNERS),
    "create_vehicle": (_vehicle_create, 201, NOT_OWNERS),
    "vehicle_detail": (_vehicle, 200, {"other_owner": 404, **NOT_OWNERS}),
    # The vehicle is the owner's: anyone else's application for it is refused by the service.
    "create_application": (_application_create, 201, {"other_owner": 422, **NOT_OWNERS}),
    "submit_application": (_application_submit, 200, {"other_owner": 404, **NOT_OWNERS}),
    "resubmit_application": (_application_resubmit, 200, {"other_owner": 404, **NOT_OWNERS}),
    "ledger_receipt": (_receipt, 200, HPG_RECEIPT),
    "ledger_inclusion_proof": (_proof, 200, HPG_RECEIPT),
    "ledger_vehicle_history": (_vehicle_history, 200, {"other_owner": 404, **UNAUTHENTICATED}),
    "list_notifications": (_notifications, 200, {**KEYS_REFUSED, **UNAUTHENTICATED}),
    "mark_notification_read": (
        _notification_read,
        404,
        {"owner": 200, **KEYS_REFUSED, **UNAUTHENTICATED},
    ),
    "mark_all_notifications_read": (
        _notifications_read_all,
        200,
        {**KEYS_REFUSED, **UNAUTHENTICATED},
    ),
    "list_webhooks": (_webhooks, 200, NOT_WEBHOOK_MANAGERS),
    "create_webhook": (_webhook_create, 201, {"hpg_read_key": 403, **NOT_WEBHOOK_MANAGERS}),
    "webhook_detail": (_webhook, 200, HPG_WEBHOOK_READ),
    "delete_webhook": (_webhook_delete, 204, HPG_WEBHOOK_WRITE),
    "pause_webhook": (_webhook_pause, 200, HPG_WEBHOOK_WRITE),
    "resume_webhook": (_webhook_resume, 200, HPG_WEBHOOK_WRITE),
    "webhook_deliveries": (_webhook_deliveries, 200, HPG_WEBHOOK_READ),
}

# Which clearance kinds and whose applications each caller may see at all.
VISIBLE_KINDS = {
    "owner": {"HPG", "INSURANCE", "EMISSION"},
    "other_owner": {"HPG", "INSURANCE", "EMISSION"},
    "hpg_officer": {"HPG"},
    "hpg_admin": {"HPG"},
    "hpg_read_key": {"HPG"},
    "hpg_decide_key": {"HPG"},
    "insurer_officer": {"INSURANCE"},
    "lto_admin": {"HPG", "INSURANCE", "EMISSION"},
}
VISIBLE_OWNERS = {"owner": {"owner"}, "other_owner": {"other_owner"}}


# Whose webhook subscriptions each caller manages.
WEBHOOK_ORGANISATIONS = {
    "hpg_admin": {"hpg"},
    "hpg_read_key": {"hpg"},
    "hpg_decide_key": {"hpg"},
    "lto_admin": {"lto"},
}


def _subscribe(world) -> None:
    """A subscription of HPG's, the insurer's and the LTO's, each with its own URL."""
    for organisation in (world.hpg, world.insurer, world.lto):
        WebhookSubscription.objects.create(
            organisation=organisation,
            url=f"https://{organisation.code}.hooks.example/in",
            events=["clearance.decided"],
            secret=f"whsec_{organisation.code}_never_shown",
        )


@pytest.fixture(scope="module")
def shared_office(django_db_setup, django_db_blocker):
    """The office and the subscriptions, built once for the module's 600-odd tests, which only
    read them or change them inside their own transaction (rolled back after each)."""
    with rows_for_the_module(django_db_blocker):
        with django_db_blocker.unblock():
            world = world_from_database() or build_world()
            office = build_office(world)
            _subscribe(world)
        yield office


@pytest.fixture
def office(shared_office, world) -> Office:
    return office_read_again(shared_office, world)


@pytest.fixture
def subscriptions(office) -> dict[str, WebhookSubscription]:
    return {
        subscription.organisation.code: subscription
        for subscription in WebhookSubscription.objects.select_related("organisation")
    }


def _forbidden_strings(office: Office, caller: str) -> list[str]:
    """Identifiers of every request and application the caller must not see, other
    organisations' webhook URLs, every webhook secret, and owners' personal data, which no API
    response carries."""
    world = office.world
    owners = {"owner": (office.application, office.requests)}
    owners["other_owner"] = (office.other_application, office.other_requests)
    kinds = VISIBLE_KINDS.get(caller, set())
    visible_owners = VISIBLE_OWNERS.get(caller, set(owners) if kinds else set())
    forbidden = []
    for who, (application, requests) in owners.items():
        if who not in visible_owners:
            forbidden.append(application.reference)
        for kind, request in requests.items():
            if who not in visible_owners or kind not in kinds:
                forbidden.append(str(request.public_id))
    for person in (world.owner, world.other_owner):
        forbidden += [person.username, person.email, person.last_name]
    for subscription in WebhookSubscription.objects.select_related("organisation"):
        forbidden.append(subscription.secret)
        if subscription.organisation.code not in WEBHOOK_ORGANISATIONS.get(caller, set()):
            forbidden.append(subscription.url)
    return forbidden


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", list(MATRIX))
def test_each_caller_gets_the_right_answer_and_nothing_of_anyone_else(
    office, subscriptions, operation, caller
):
    call, default, exceptions = MATRIX[operation]
    expected = exceptions.get(caller, default)

    response = call(client_for(office, caller), office)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
    body = response.content.decode()
    if operation == "create_webhook" and expected == 201:
        # The one answer that shows a secret: the new subscription's own, once.
        body = body.replace(response.json()["secret"], "")
    for text in _forbidden_strings(office, caller):
        assert text not in body, f"{operation} shows {caller} {text!r}"


@pytest.mark.parametrize(
    ("caller", "kinds", "owners"),
    [
        ("owner", {"HPG", "INSURANCE", "EMISSION"}, {"owner"}),
        ("hpg_officer", {"HPG"}, {"owner", "other_owner"}),
        ("hpg_read_key", {"HPG"}, {"owner", "other_owner"}),
        ("insurer_officer", {"INSURANCE"}, {"owner", "other_owner"}),
        ("lto_admin", {"HPG", "INSURANCE", "EMISSION"}, {"owner", "other_owner"}),
    ],
)
def test_the_clearance_list_holds_exactly_what_the_caller_may_see(office, caller, kinds, owners):
    by_owner = {"owner": office.requests, "other_owner": office.other_requests}
    expected = {
        request.pk for who in owners for kind, request in by_owner[who].items() if kind in kinds
    }

    response = client_for(office, caller).get("/api/v1/clearances/")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == expected


def test_the_status_lookup_shows_an_organisation_only_its_own_clearance(office):
    response = client_for(office, "hpg_read_key").get(
        "/api/v1/status/", {"vin": office.application.vehicle.vin}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == office.application.reference
    assert [(c["kind"], c["status"]) for c in body["clearances"]] == [("HPG", "pending")]
    assert body["clearances"][0]["ledger"]["tx_id"]


def test_the_owner_sees_every_clearance_of_their_application_with_its_receipt(office):
    response = client_for(office, "owner").get(
        "/api/v1/status/", {"reference": office.application.reference}
    )

    clearances = response.json()["clearances"]
    assert [c["kind"] for c in clearances] == ["EMISSION", "HPG", "INSURANCE"]
    change = office.requests["HPG"].status_changes.get()
    hpg = clearances[1]["ledger"]
    assert (hpg["tx_id"], hpg["block"]) == (change.ledger_tx_id, change.ledger_block)


def test_a_key_never_reaches_another_organisations_request(office):
    response = client_for(office, "hpg_decide_key").get(
        f"/api/v1/clearances/{office.requests['INSURANCE'].pk}/"
    )
    assert response.status_code == 404
