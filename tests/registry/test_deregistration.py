"""Deregistration is final: LTO staff deregister a registered vehicle with a reason, evidence
and a note; its CR is revoked, its periods end, the ledger records it, its owner is told, and
nothing registers, renews or sells it again, nor takes its numbers. Every refusal leaves the
rows as they were."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kernel.errors import Conflict, PermissionDenied
from ledger import get_ledger
from ledger.base import VehicleRegistration, owner_pseudonym
from ledger.exceptions import LedgerRejected
from notifications.models import Notification
from organisations.services import api_key_create
from registry import sales
from registry import services as registry_services
from registry.deregistration import vehicle_deregister
from registry.models import (
    Certificate,
    Deregistration,
    Document,
    OwnershipPeriod,
    RegistrationPeriod,
    Sale,
    Vehicle,
)
from tests.api.test_problems import assert_problem
from tests.conftest import filed_application
from tests.factories import VehicleFactory
from tests.transfers import PDF, registered

GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def evidence(content: bytes = PDF, name: str = "certificate-of-scrapping.pdf"):
    return SimpleUploadedFile(name, content)


def deregister(world, vehicle, *, actor=None, reason="scrapped", note="Scrapped at the yard."):
    return vehicle_deregister(
        vehicle_id=vehicle.pk,
        actor=actor or world.lto_admin,
        reason=reason,
        evidence=evidence(),
        note=note,
    )


def rows():
    """What a refused deregistration must leave as it was."""
    return (
        list(Deregistration.objects.values_list("pk")),
        list(Vehicle.objects.values_list("pk", "is_active").order_by("pk")),
        list(Certificate.objects.values_list("pk", "status").order_by("pk")),
        list(RegistrationPeriod.objects.values_list("pk", "valid_to", "ended_on").order_by("pk")),
        list(OwnershipPeriod.objects.values_list("pk", "ended_on").order_by("pk")),
        Document.objects.count(),
        Notification.objects.filter(event="vehicle_deregistered").count(),
    )


# Service


def test_the_lto_deregisters_a_vehicle_its_cr_is_revoked_periods_end_and_the_owner_is_told(
    world,
):
    vehicle = registered(world)
    certificate = Certificate.objects.get(vehicle=vehicle, status="valid")

    deregistration = deregister(world, vehicle, reason="total_loss")

    today = timezone.localdate()
    vehicle.refresh_from_db()
    certificate.refresh_from_db()
    assert not vehicle.is_active
    assert deregistration.reason == "total_loss" and deregistration.decided_by == world.lto_admin
    assert certificate.status == "revoked"
    assert (
        "deregistered" in certificate.revoked_reason and "total loss" in certificate.revoked_reason
    )
    period = RegistrationPeriod.objects.get(vehicle=vehicle)
    assert period.ended_on == today and not period.is_current(today)
    assert period.status_on(today) == "ended"
    assert not OwnershipPeriod.objects.filter(vehicle=vehicle, ended_on__isnull=True).exists()
    assert deregistration.evidence.doc_type == "deregistration_evidence"
    assert deregistration.evidence.ledger_tx_id  # the evidence is anchored too
    told = Notification.objects.get(recipient=world.owner, event="vehicle_deregistered")
    assert "revoked" in told.body and certificate.number in told.body
    assert told.link == reverse("vehicle-ownership", args=[vehicle.pk])


def test_the_ledger_records_the_deregistration_signed_by_the_lto_and_refuses_the_vin_after(
    world,
):
    vehicle = registered(world)

    deregistration = deregister(world, vehicle)

    ledger = get_ledger()
    change = ledger.get_change(str(deregistration.ledger_change_id))
    assert change is not None and change["type"] == "deregistration"
    assert change["msp_id"] == "LTOMSP" and change["tx_id"] == deregistration.ledger_tx_id
    assert change["evidence_digest"] == deregistration.evidence.sha256
    assert ledger.world_state("GetVehicle", vehicle.vin)["state"] == "deregistered"
    with pytest.raises(LedgerRejected, match="deregistered VIN is never registered again"):
        ledger.register_vehicle(
            VehicleRegistration(
                vin=vehicle.vin,
                record_digest="b" * 64,
                change_id="again-1",
                owner=owner_pseudonym(vehicle.vin, world.owner.pk),
                signer_msp="LTOMSP",
            )
        )


@pytest.mark.parametrize("who", ["owner", "hpg_officer", "other_owner"])
def test_only_lto_staff_deregister(world, who):
    vehicle = registered(world)
    before = rows()

    with pytest.raises(PermissionDenied, match="Only LTO staff deregister vehicles"):
        deregister(world, vehicle, actor=getattr(world, who))

    assert rows() == before


@pytest.mark.parametrize(
    "change,error,message",
    [
        ({"reason": "stolen"}, ValidationError, "scrapped, exported or total loss"),
        ({"note": "   "}, ValidationError, "Say what the evidence shows"),
        ({"content": GIF}, ValidationError, "This file is a GIF image"),
        ({"content": b""}, ValidationError, "The file is empty"),
        ({"name": ".scrap.pdf"}, ValidationError, "must not start with a dot"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(world, change, error, message):
    vehicle = registered(world)
    before = rows()

    with pytest.raises(error, match=message):
        vehicle_deregister(
            vehicle_id=vehicle.pk,
            actor=world.lto_admin,
            reason=change.get("reason", "exported"),
            evidence=evidence(change.get("content", PDF), change.get("name", "export.pdf")),
            note=change.get("note", "Exported to Guam."),
        )

    assert rows() == before


def test_an_unregistered_vehicle_is_not_deregistered(world):
    vehicle = VehicleFactory(owner=world.owner)
    before = rows()

    with pytest.raises(ValidationError, match="is not registered"):
        deregister(world, vehicle)

    assert rows() == before


def test_a_vehicle_with_an_application_in_progress_or_a_sale_open_is_not_deregistered(world):
    renewing = registered(world)
    selling = registered(world)
    registry_services.application_create(
        applicant=world.owner,
        vehicle_id=renewing.pk,
        type="renewal",
        today=RegistrationPeriod.objects.get(vehicle=renewing).valid_to,
    )
    sales.sale_start(seller=world.owner, vehicle_id=selling.pk, buyer_email=world.other_owner.email)
    before = rows()

    with pytest.raises(Conflict, match="has an application in progress: the owner withdraws"):
        deregister(world, renewing)
    with pytest.raises(Conflict, match="has a sale open"):
        deregister(world, selling)

    assert rows() == before


def test_a_second_deregistration_is_refused_and_changes_nothing(world):
    vehicle = registered(world)
    deregister(world, vehicle)
    before = rows()

    with pytest.raises(Conflict, match="deregistered already"):
        deregister(world, vehicle, reason="exported")

    assert rows() == before


def test_a_deregistered_vehicle_is_never_registered_renewed_or_sold_again(world):
    vehicle = registered(world)
    deregister(world, vehicle)
    vehicle.refresh_from_db()
    before = rows(), Sale.objects.count(), vehicle.applications.count()

    for type in ("new", "renewal"):
        with pytest.raises(ValidationError, match=r"was deregistered on .* never be registered"):
            registry_services.application_create(
                applicant=world.owner, vehicle_id=vehicle.pk, type=type
            )
    with pytest.raises(ValidationError, match="renewed or sold again"):
        sales.sale_start(
            seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.other_owner.email
        )

    assert (rows(), Sale.objects.count(), vehicle.applications.count()) == before


def test_a_deregistered_vehicle_s_numbers_never_become_free(world):
    vehicle = registered(world)
    deregister(world, vehicle)

    with pytest.raises(ValidationError) as refused:
        registry_services.vehicle_register(
            owner=world.other_owner,
            vin=vehicle.vin.lower(),
            engine_number=f" {vehicle.engine_number} ",
            chassis_number=vehicle.chassis_number,
            make="Toyota",
            model="Vios",
            year=2020,
            body_type="sedan",
            colour="Red",
            fuel="gasoline",
        )

    assert set(refused.value.message_dict) == {"vin", "engine_number", "chassis_number"}
    assert "was deregistered by the LTO" in refused.value.message_dict["vin"][0]
    assert Vehicle.objects.filter(vin=vehicle.vin).count() == 1


# Pages


def signed_in(client, user):
    client.force_login(user)
    return client


def test_lto_staff_deregister_from_the_vehicle_page_and_its_history_shows_it(world, client):
    vehicle = registered(world)
    signed_in(client, world.lto_admin)
    history = client.get(reverse("vehicle-ownership", args=[vehicle.pk]))
    assert reverse("vehicle-deregister", args=[vehicle.pk]) in history.content.decode()

    form = client.get(reverse("vehicle-deregister", args=[vehicle.pk]))
    done = client.post(
        reverse("vehicle-deregister", args=[vehicle.pk]),
        {
            "reason": "exported",
            "evidence": evidence(name="export-permit.pdf"),
            "note": "Export permit presented by the owner.",
            "confirm": "on",
        },
    )

    assert form.status_code == 200 and "Deregistration is final" in form.content.decode()
    assert done.status_code == 302
    assert done["Location"] == reverse("vehicle-ownership", args=[vehicle.pk])
    page = client.get(done["Location"]).content.decode()
    today = timezone.localdate().strftime("%d %b %Y")
    assert f"Deregistered on {today} (exported)" in page
    assert "Export permit presented by the owner." in page
    assert reverse("vehicle-deregister", args=[vehicle.pk]) not in page  # no second time
    owner_page = APIClient()
    owner_page.force_login(world.owner)
    seen = owner_page.get(reverse("vehicle-ownership", args=[vehicle.pk])).content.decode()
    assert f"Deregistered on {today} (exported)" in seen
    assert "Export permit presented" not in seen  # the officer's note is for the LTO


def test_the_application_page_links_lto_staff_to_deregistration(world, client):
    application = registered(world).applications.get()
    signed_in(client, world.lto_admin)

    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert reverse("vehicle-deregister", args=[application.vehicle_id]) in page


@pytest.mark.parametrize("who", ["owner", "hpg_officer"])
def test_the_deregistration_page_is_404_for_anyone_but_lto_staff(world, client, who):
    vehicle = registered(world)
    signed_in(client, getattr(world, who))
    before = rows()

    shown = client.get(reverse("vehicle-deregister", args=[vehicle.pk]))
    posted = client.post(
        reverse("vehicle-deregister", args=[vehicle.pk]),
        {"reason": "scrapped", "evidence": evidence(), "note": "x", "confirm": "on"},
    )

    assert shown.status_code == posted.status_code == 404
    assert rows() == before


def test_the_page_refuses_a_form_without_note_or_confirmation_and_changes_nothing(world, client):
    vehicle = registered(world)
    signed_in(client, world.lto_admin)
    before = rows()

    response = client.post(
        reverse("vehicle-deregister", args=[vehicle.pk]),
        {"reason": "scrapped", "evidence": evidence(), "note": ""},
    )

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert rows() == before


def test_the_page_shows_the_service_s_refusal_with_its_status(world, client):
    vehicle = registered(world)
    signed_in(client, world.lto_admin)
    before = rows()

    response = client.post(
        reverse("vehicle-deregister", args=[vehicle.pk]),
        {"reason": "scrapped", "evidence": evidence(GIF, "photo.gif"), "note": "n", "confirm": "1"},
    )

    assert response.status_code == 422
    assert "This file is a GIF image" in response.content.decode()
    assert rows() == before


def test_the_owner_s_pages_refuse_a_renewal_or_sale_of_a_deregistered_vehicle(world, client):
    vehicle = registered(world)
    deregister(world, vehicle)
    signed_in(client, world.owner)

    renewal = client.post(reverse("application-new"), {"vehicle": vehicle.pk, "type": "renewal"})
    sale = client.post(
        reverse("sale-start", args=[vehicle.pk]), {"buyer_email": world.other_owner.email}
    )

    assert renewal.status_code == 422 and "renewed or sold again" in renewal.content.decode()
    assert sale.status_code == 422 and "renewed or sold again" in sale.content.decode()
    assert not Sale.objects.exists() and vehicle.applications.count() == 1


def test_the_public_verify_page_says_deregistered(world, client):
    vehicle = registered(world)
    deregister(world, vehicle, reason="scrapped")

    page = client.get(reverse("verify-search"), {"q": vehicle.plate_number})

    text = page.content.decode()
    assert page.status_code == 200
    assert "Deregistered: the LTO took this vehicle off the register" in text
    assert "(scrapped)" in text and "never be registered again" in text


# API


def api_deregister(client, vehicle, *, content=PDF, reason="scrapped", key=None, **headers):
    body = {
        "reason": reason,
        "note": "Certificate of scrapping from the yard.",
        "evidence": {
            "file_name": "scrap.pdf",
            "content_base64": base64.b64encode(content).decode(),
        },
    }
    return client.post(f"/api/v1/vehicles/{vehicle.pk}/deregister/", body, format="json", **headers)


def lto_session(world) -> APIClient:
    client = APIClient()
    client.force_login(world.lto_admin)
    return client


def test_the_api_deregisters_for_an_lto_session_once_per_idempotency_key(world):
    vehicle = registered(world)
    client = lto_session(world)

    first = api_deregister(client, vehicle, HTTP_IDEMPOTENCY_KEY="dereg-0001")
    again = api_deregister(client, vehicle, HTTP_IDEMPOTENCY_KEY="dereg-0001")

    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["vehicle"], body["vin"], body["reason"]) == (vehicle.pk, vehicle.vin, "scrapped")
    assert body["ledger"]["tx_id"] == Deregistration.objects.get().ledger_tx_id
    assert again.status_code == 201 and again.json() == body
    assert Deregistration.objects.count() == 1
    assert Certificate.objects.get(vehicle=vehicle).status == "revoked"


def test_an_lto_key_with_the_decide_scope_deregisters_and_other_keys_cannot(world):
    vehicle = registered(world)
    _, lto_key = api_key_create(
        organisation_id=world.lto.pk, admin=world.lto_admin, name="yard", scopes=["decide"]
    )
    _, lto_read_key = api_key_create(
        organisation_id=world.lto.pk, admin=world.lto_admin, name="read", scopes=["read"]
    )
    _, hpg_key = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="hpg", scopes=["decide"]
    )
    before = rows()

    for key, message in ((hpg_key, "Only LTO staff"), (lto_read_key, "lacks the 'decide' scope")):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        refused = api_deregister(client, vehicle)
        assert refused.status_code == 403, refused.content
        assert message in refused.json()["detail"]
    assert rows() == before

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {lto_key}")
    done = api_deregister(client, vehicle, reason="exported")
    assert done.status_code == 201, done.content
    assert Deregistration.objects.get().reason == "exported"


def test_the_api_refuses_with_problems_and_changes_nothing(world):
    vehicle = registered(world)
    client = lto_session(world)
    owner = APIClient()
    owner.force_login(world.owner)
    unregistered = VehicleFactory(owner=world.owner)
    before = rows()

    assert_problem(api_deregister(owner, vehicle), 403, "permission_denied")
    not_base64 = client.post(
        f"/api/v1/vehicles/{vehicle.pk}/deregister/",
        {
            "reason": "scrapped",
            "note": "n",
            "evidence": {"file_name": "a.pdf", "content_base64": "%%"},
        },
        format="json",
    )
    assert not_base64.status_code == 400, not_base64.content
    assert "base64" in json.dumps(not_base64.json())
    gif = assert_problem(api_deregister(client, vehicle, content=GIF), 422, "invalid")
    assert "GIF image" in json.dumps(gif)
    assert api_deregister(client, vehicle, reason="stolen").status_code == 400
    missing = client.post("/api/v1/vehicles/999999/deregister/", {}, format="json")
    assert missing.status_code in (400, 404)
    assert_problem(api_deregister(client, unregistered), 422, "invalid")
    assert rows() == before

    assert api_deregister(client, vehicle).status_code == 201
    second = assert_problem(api_deregister(client, vehicle), 409, "conflict")
    assert "deregistered already" in second["detail"]


def test_the_api_refuses_a_renewal_of_a_deregistered_vehicle_with_its_reason(world):
    vehicle = registered(world)
    deregister(world, vehicle)
    owner = APIClient()
    owner.force_login(world.owner)

    refused = owner.post(
        "/api/v1/applications/", {"vehicle": vehicle.pk, "type": "renewal"}, format="json"
    )

    body = assert_problem(refused, 422, "invalid")
    assert "renewed or sold again" in json.dumps(body)
    assert vehicle.applications.count() == 1


def test_a_vehicle_of_another_owner_still_registers(world):
    """The refusal is about the deregistered vehicle, not about its owner."""
    vehicle = registered(world)
    deregister(world, vehicle)

    application = filed_application(world)

    assert application.status == "submitted"
