"""Owners record vehicles and file applications through the API, through the same services
as the browser."""

from __future__ import annotations

import uuid

from chaincode.rules import ApplicationStatus
from notifications.models import Notification
from registry import services as registry_services
from registry.events import APPLICATION_SUBMITTED
from registry.models import ApplicationStatusChange, RegistrationApplication, Vehicle
from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem
from tests.conftest import with_required_documents
from tests.factories import VehicleFactory

VEHICLE = {
    "vin": "jtdbt923x71234567",
    "engine_number": "1nzx 998877",
    "chassis_number": "ncp93-7654321",
    "make": " Toyota ",
    "model": "Yaris",
    "year": 2024,
    "body_type": "hatchback",
    "colour": "Red",
    "fuel": "gasoline",
}


def _draft(world, owner=None) -> RegistrationApplication:
    """A draft with the documents its type needs, ready to submit."""
    owner = owner or world.owner
    vehicle = VehicleFactory(owner=owner)
    return with_required_documents(
        registry_services.application_create(applicant=owner, vehicle_id=vehicle.pk, type="new")
    )


def test_a_recorded_vehicle_is_the_owners_with_normalised_numbers(office):
    client = client_for(office, "owner")

    response = client.post("/api/v1/vehicles/", VEHICLE, format="json")

    assert response.status_code == 201, response.content
    vehicle = Vehicle.objects.get(pk=response.json()["id"])
    assert vehicle.owner == office.world.owner
    assert (vehicle.vin, vehicle.engine_number, vehicle.make) == (
        "JTDBT923X71234567",
        "1NZX998877",
        "Toyota",
    )
    assert response.json()["vin"] == "JTDBT923X71234567"
    listed = client.get("/api/v1/vehicles/").json()["results"]
    assert listed[0]["id"] == vehicle.pk
    assert {row["id"] for row in listed} == set(
        Vehicle.objects.filter(owner=office.world.owner).values_list("pk", flat=True)
    )


def test_a_bad_vehicle_field_is_a_400_naming_it_and_nothing_is_saved(office):
    before = Vehicle.objects.count()

    response = client_for(office, "owner").post(
        "/api/v1/vehicles/", {**VEHICLE, "fuel": "steam", "year": 1800}, format="json"
    )

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"fuel", "year"}
    assert Vehicle.objects.count() == before


def test_a_vin_another_active_vehicle_has_is_refused_with_the_reason(office):
    taken = office.application.vehicle.vin
    before = Vehicle.objects.count()

    response = client_for(office, "other_owner").post(
        "/api/v1/vehicles/", {**VEHICLE, "vin": taken}, format="json"
    )

    body = assert_problem(response, 422, "invalid")
    assert "already has this VIN" in body["detail"]
    assert Vehicle.objects.count() == before


def test_recording_a_vehicle_twice_with_one_idempotency_key_records_it_once(office):
    client = client_for(office, "owner")
    key = str(uuid.uuid4())

    first = client.post("/api/v1/vehicles/", VEHICLE, format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = client.post("/api/v1/vehicles/", VEHICLE, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Vehicle.objects.filter(vin="JTDBT923X71234567").count() == 1


def test_an_owner_starts_a_draft_for_their_vehicle(office):
    vehicle = VehicleFactory(owner=office.world.owner)

    response = client_for(office, "owner").post(
        "/api/v1/applications/", {"vehicle": vehicle.pk, "type": "new"}, format="json"
    )

    assert response.status_code == 201, response.content
    application = RegistrationApplication.objects.get(pk=response.json()["id"])
    assert (application.applicant, application.vehicle, application.type) == (
        office.world.owner,
        vehicle,
        "new",
    )
    assert response.json()["status"] == application.status == ApplicationStatus.DRAFT
    assert response.json()["reference"] == application.reference


def test_a_second_application_for_a_vehicle_in_progress_is_a_409(office):
    vehicle = office.application.vehicle

    response = client_for(office, "owner").post(
        "/api/v1/applications/", {"vehicle": vehicle.pk, "type": "new"}, format="json"
    )

    assert_problem(response, 409, "conflict")
    assert vehicle.applications.count() == 1


def test_an_application_for_someone_elses_vehicle_names_the_vehicle_field(office):
    vehicle = VehicleFactory(owner=office.world.owner)

    response = client_for(office, "other_owner").post(
        "/api/v1/applications/", {"vehicle": vehicle.pk, "type": "new"}, format="json"
    )

    body = assert_problem(response, 422, "invalid")
    assert set(body["errors"]) == {"vehicle"}
    assert not vehicle.applications.exists()


def test_submitting_a_draft_files_it_records_history_and_tells_the_lto(office):
    draft = _draft(office.world)

    response = client_for(office, "owner").post(f"/api/v1/applications/{draft.pk}/submit/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED
    assert draft.submitted_at is not None
    change = ApplicationStatusChange.objects.get(application=draft, to_status="submitted")
    assert (change.from_status, change.actor) == ("draft", office.world.owner)
    assert Notification.objects.filter(
        recipient=office.world.lto_admin,
        event=APPLICATION_SUBMITTED,
        link__contains=str(draft.pk),
    ).exists()


def test_submitting_twice_is_a_409_and_changes_nothing(office):
    application = office.application  # already submitted and sent for clearance
    changes = application.status_changes.count()

    response = client_for(office, "owner").post(f"/api/v1/applications/{application.pk}/submit/")

    assert_problem(response, 409, "transition_not_allowed")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_CLEARANCES
    assert application.status_changes.count() == changes


def test_resubmitting_a_returned_application_keeps_the_note_in_its_history(office):
    world = office.world
    application = office.application
    registry_services.application_return(
        application_id=application.pk, actor=world.lto_admin, reason="Unreadable OR."
    )

    response = client_for(office, "owner").post(
        f"/api/v1/applications/{application.pk}/resubmit/",
        {"note": "Uploaded a clear scan."},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_clearances"
    change = application.status_changes.order_by("-created_at", "-id").first()
    assert (change.from_status, change.to_status, change.reason) == (
        "returned",
        "awaiting_clearances",
        "Uploaded a clear scan.",
    )


def test_resubmitting_an_application_awaiting_clearances_is_a_409_and_changes_nothing(office):
    application = office.application
    changes = application.status_changes.count()

    response = client_for(office, "owner").post(
        f"/api/v1/applications/{application.pk}/resubmit/", {"note": "x"}, format="json"
    )

    assert_problem(response, 409, "transition_not_allowed")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_CLEARANCES
    assert application.status_changes.count() == changes


def test_a_note_too_long_is_a_400_naming_it(office):
    response = client_for(office, "owner").post(
        f"/api/v1/applications/{office.application.pk}/resubmit/",
        {"note": "x" * 2001},
        format="json",
    )

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"note"}


def test_organisation_staff_file_nothing_as_owners(office):
    vehicle_count = Vehicle.objects.count()

    response = client_for(office, "lto_admin").post("/api/v1/vehicles/", VEHICLE, format="json")

    body = assert_problem(response, 403, "permission_denied")
    assert "owners" in body["detail"]
    assert Vehicle.objects.count() == vehicle_count


def test_a_draft_cannot_be_resubmitted_only_submitted(office):
    """Draft -> submitted is a legal move, but resubmit means "I corrected what was returned"."""
    draft = _draft(office.world)

    response = client_for(office, "owner").post(
        f"/api/v1/applications/{draft.pk}/resubmit/", {"note": "x"}, format="json"
    )

    body = assert_problem(response, 409, "transition_not_allowed")
    assert "Only a returned application can be resubmitted" in body["detail"]
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
