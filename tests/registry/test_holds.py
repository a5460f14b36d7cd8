"""Holds ("alarms"): HPG holds a stolen vehicle and the LTO holds for a violation, court order
or administrative reason; while a hold is active the vehicle is not renewed, sold,
transferred, deregistered or cleared; only the office that placed it lifts it (the chaincode
refuses anyone else too); the owner is told a hold exists and whom to contact, never the
evidence; the public verify page says "on hold". Every refusal leaves the rows as they were."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from clearance import services as clearance_services
from kernel.errors import PermissionDenied
from ledger import get_ledger
from ledger.exceptions import LedgerRejected
from notifications.models import Notification
from organisations.models import Organisation
from organisations.services import api_key_create
from registry import sales
from registry import services as registry_services
from registry.deregistration import vehicle_deregister
from registry.holds import OnHold, hold_lift, hold_place, lift_as
from registry.models import Document, Hold, RegistrationApplication, Sale
from tests.api.test_problems import assert_problem
from tests.conftest import filed_application, findings_for, sent_for_clearance
from tests.paying import pay_in_full
from tests.transfers import PDF, cleared_transfer, registered

UNKNOWN_VIN = "JTDBR32E720012345"


def evidence(name: str = "alarm-report.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def place_stolen(world, vin: str, officer=None) -> Hold:
    return hold_place(
        officer=officer or world.hpg_officer,
        vin=vin,
        reason="stolen",
        evidence=evidence(),
        note="Reported stolen in Marikina, alarm 2026-118.",
    )


def lift(world, hold: Hold, officer=None) -> Hold:
    return hold_lift(
        officer=officer or world.hpg_officer,
        hold_id=hold.pk,
        evidence=evidence("recovery-report.pdf"),
        note="Recovered and returned to its owner.",
    )


def rows():
    """What a refused placing or lifting must leave as it was."""
    return (
        list(Hold.objects.values_list("pk", "status", "lift_change_id").order_by("pk")),
        Document.objects.count(),
        Notification.objects.filter(event__in=["hold_placed", "hold_lifted"]).count(),
    )


@pytest.fixture
def contact(world):
    Organisation.objects.filter(pk=world.hpg.pk).update(
        contact_email="alarms@hpg.example.ph", contact_phone="+63 2 8723 0401"
    )


# Service


def test_hpg_places_a_stolen_hold_signed_by_hpg_with_anchored_evidence(world, contact):
    vehicle = registered(world)

    hold = place_stolen(world, vehicle.vin)

    assert hold.is_active and hold.vehicle == vehicle and hold.organisation == world.hpg
    assert hold.reference.startswith("HOLD-")
    change = get_ledger().get_change(str(hold.ledger_change_id))
    assert change["type"] == "hold" and change["msp_id"] == "HPGMSP"
    assert change["evidence_digest"] == hold.evidence.sha256
    assert change["tx_id"] == hold.ledger_tx_id
    assert hold.evidence.application is None and hold.evidence.ledger_tx_id
    assert get_ledger().world_state("GetHolds", vehicle.vin)["active"] == [hold.reference]
    told = Notification.objects.get(recipient=world.owner, event="hold_placed")
    assert "alarms@hpg.example.ph" in told.body and "PNP-HPG" in told.body
    assert "stolen" not in told.body.lower() and "Quezon" not in told.body


def test_a_hold_may_name_a_vin_talaan_has_no_vehicle_for(world):
    hold = place_stolen(world, UNKNOWN_VIN)

    assert hold.vehicle is None and hold.is_active
    assert get_ledger().world_state("GetHolds", UNKNOWN_VIN)["active"] == [hold.reference]


def test_only_hpg_lifts_its_hold_the_lto_is_refused_by_the_service(world):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)
    before = rows()

    with pytest.raises(PermissionDenied, match="Only PNP-HPG, which placed hold HOLD-"):
        lift(world, hold, officer=world.lto_admin)

    assert rows() == before
    lifted = lift(world, hold)
    assert lifted.status == "lifted" and lifted.lifted_by == world.hpg_officer
    change = get_ledger().get_change(str(lifted.lift_change_id))
    assert change["type"] == "hold_lift" and change["msp_id"] == "HPGMSP"
    assert change["tx_id"] == lifted.lift_ledger_tx_id
    assert get_ledger().world_state("GetHolds", vehicle.vin)["active"] == []
    told = Notification.objects.get(recipient=world.owner, event="hold_lifted")
    assert "lifted" in told.body


def test_the_chaincode_refuses_the_lto_lifting_hpgs_hold_when_the_service_check_is_bypassed(
    world,
):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)
    before = rows()

    # lift_as signs as the office it is given: the service passes the placing office only.
    with (
        pytest.raises(LedgerRejected, match="Only HPGMSP, which placed hold"),
        transaction.atomic(),
    ):
        lift_as(
            Hold.objects.select_for_update().get(pk=hold.pk),
            office=world.lto,
            officer=world.lto_admin,
            evidence=evidence("lto-says-so.pdf"),
            note="Not ours to lift.",
        )

    assert rows() == before
    assert get_ledger().world_state("GetHolds", vehicle.vin)["active"] == [hold.reference]


@pytest.mark.parametrize(
    ("officer", "vin", "reason", "with_evidence", "field", "message"),
    [
        ("hpg_officer", "JTDBR32E72001234", "stolen", True, "vin", "exactly 17"),
        ("hpg_officer", "JTDBR32E72001234O", "stolen", True, "vin", "never uses I, O or Q"),
        ("hpg_officer", UNKNOWN_VIN, "parking", True, "reason", "Choose the reason"),
        ("hpg_officer", UNKNOWN_VIN, "stolen", False, "evidence", "Attach the evidence"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    world, officer, vin, reason, with_evidence, field, message
):
    before = rows()

    with pytest.raises(ValidationError) as refused:
        hold_place(
            officer=getattr(world, officer),
            vin=vin,
            reason=reason,
            evidence=evidence() if with_evidence else None,
            note="A note.",
        )

    assert message in " ".join(refused.value.message_dict[field])
    assert rows() == before


@pytest.mark.parametrize(
    ("officer", "reason", "message"),
    [
        ("hpg_officer", "court_order", "Only LTO staff place a court order hold"),
        ("lto_admin", "stolen", "Only HPG officers place a stolen hold"),
        ("insurer_officer", "violation", "Only LTO staff place a violation hold"),
        ("owner", "stolen", "Only HPG officers place a stolen hold"),
    ],
)
def test_a_reason_not_of_the_officers_kind_is_refused_and_changes_nothing(
    world, officer, reason, message
):
    before = rows()

    with pytest.raises(PermissionDenied, match=message):
        hold_place(
            officer=getattr(world, officer),
            vin=UNKNOWN_VIN,
            reason=reason,
            evidence=evidence(),
            note="A note.",
        )

    assert rows() == before


def test_the_lto_places_and_lifts_its_own_court_order_hold(world):
    vehicle = registered(world)
    hold = hold_place(
        officer=world.lto_admin,
        vin=vehicle.vin,
        reason="court_order",
        evidence=evidence("court-order.pdf"),
        note="RTC Branch 12 order.",
    )
    assert get_ledger().get_change(str(hold.ledger_change_id))["msp_id"] == "LTOMSP"

    with pytest.raises(PermissionDenied, match="Only LTO, which placed hold"):
        lift(world, hold, officer=world.hpg_officer)
    assert lift(world, hold, officer=world.lto_admin).status == "lifted"


# What a hold blocks, through the services


def test_a_stolen_hold_blocks_renewal_sale_deregistration_and_lifting_it_unblocks_them(
    world, contact
):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)

    with pytest.raises(OnHold, match=r"cannot be renewed: A hold exists.*alarms@hpg"):
        registry_services.application_create(
            applicant=world.owner, vehicle_id=vehicle.pk, type="renewal"
        )
    with pytest.raises(OnHold, match="cannot be sold: A hold exists"):
        sales.sale_start(
            seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.other_owner.email
        )
    with pytest.raises(OnHold, match="cannot be deregistered: A hold exists"):
        vehicle_deregister(
            vehicle_id=vehicle.pk,
            actor=world.lto_admin,
            reason="scrapped",
            evidence=evidence("scrapping.pdf"),
            note="Scrapped.",
        )
    assert not Sale.objects.filter(vehicle=vehicle).exists()
    assert not RegistrationApplication.objects.filter(vehicle=vehicle, type="renewal").exists()

    lift(world, hold)

    sale = sales.sale_start(
        seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.other_owner.email
    )
    assert sale.status == "awaiting_buyer"


def test_a_hold_placed_during_a_transfer_stops_its_acceptance_and_its_approval(world):
    vehicle = registered(world)
    sale = sales.sale_start(
        seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.other_owner.email
    )
    hold = place_stolen(world, vehicle.vin)

    with pytest.raises(OnHold, match="cannot be transferred"):
        sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))

    lift(world, hold)
    sales.sale_withdraw(seller=world.owner, sale_id=sale.pk)
    application = cleared_transfer(world, vehicle)
    pay_in_full(application)
    place_stolen(world, vehicle.vin)
    with pytest.raises(OnHold, match="cannot be transferred"):
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    application.refresh_from_db()
    assert application.status == "cleared"
    vehicle.refresh_from_db()
    assert vehicle.owner == world.owner


def test_a_vin_held_before_talaan_knew_it_is_not_registered_when_someone_records_it(world):
    hold = place_stolen(world, UNKNOWN_VIN)
    vehicle = registry_services.vehicle_register(
        owner=world.other_owner,
        vin=UNKNOWN_VIN.lower(),
        engine_number="2NZ7654321",
        chassis_number="NCP93-7654321",
        make="Toyota",
        model="Vios",
        year=2022,
        body_type="sedan",
        colour="White",
        fuel="gasoline",
    )

    hold.refresh_from_db()
    assert hold.vehicle == vehicle
    with pytest.raises(OnHold, match="cannot be registered"):
        registry_services.application_create(
            applicant=world.other_owner, vehicle_id=vehicle.pk, type="new"
        )
    assert not RegistrationApplication.objects.filter(vehicle=vehicle).exists()


def test_a_held_vehicle_is_not_given_a_new_registration(world):
    application = filed_application(world)
    place_stolen(world, application.vehicle.vin)

    with pytest.raises(OnHold, match="cannot be registered"):
        registry_services.application_create(
            applicant=world.owner, vehicle_id=application.vehicle.pk, type="new"
        )


def test_the_hold_evidence_is_not_the_owners_it_has_no_application(world):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)

    documents = Document.objects.filter(application__vehicle=vehicle)
    assert hold.evidence not in documents
    assert not Document.objects.filter(application__applicant=world.owner, doc_type="hold_evidence")


# The HPG check reads the hold register


def hpg_decision_page(world, client, application) -> str:
    _, requests = sent_for_clearance(world, application)
    hpg = requests["HPG"]
    clearance_services.clearance_claim(request_id=hpg.pk, officer=world.hpg_officer)
    client.force_login(world.hpg_officer)
    return client.get(reverse("clearance-detail", args=[hpg.pk])).content.decode()


def test_an_active_stolen_hold_pre_fills_hpg_s_check_as_a_hit_with_its_reference(world, client):
    application = filed_application(world)
    hold = place_stolen(world, application.vehicle.vin)

    page = hpg_decision_page(world, client, application)

    assert '<option value="hit" selected>' in page
    assert f"active stolen hold on this VIN: <strong>{hold.reference}</strong>" in page
    assert '<option value="clear" selected>' not in page


def test_without_a_hold_the_stolen_check_is_not_pre_filled_at_all(world, client):
    application = filed_application(world)
    lift(world, place_stolen(world, application.vehicle.vin))  # a lifted hold is no hit

    page = hpg_decision_page(world, client, application)

    assert '<option value="" selected>Choose the check' in page
    assert '<option value="clear" selected>' not in page
    assert '<option value="hit" selected>' not in page
    assert "active stolen hold" not in page


# Pages


def test_hpg_places_and_lifts_a_hold_through_its_pages_and_the_lto_cannot_lift_it(world, client):
    vehicle = registered(world)
    client.force_login(world.hpg_officer)
    form = client.get(reverse("hold-new")).content.decode()
    assert '<option value="stolen">' in form and "court_order" not in form

    done = client.post(
        reverse("hold-new"),
        {"vin": vehicle.vin, "reason": "stolen", "evidence": evidence(), "note": "Alarm 118."},
    )

    hold = Hold.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "hold-detail", args=[hold.reference]
    )
    listing = client.get(reverse("holds"), {"status": "active"}).content.decode()
    assert hold.reference in listing
    assert hold.reference not in client.get(reverse("holds"), {"status": "lifted"}).content.decode()
    lto = APIClient()
    lto.force_login(world.lto_admin)
    seen = lto.get(reverse("hold-detail", args=[hold.reference])).content.decode()
    assert "Only PNP-HPG, which placed it, lifts this hold." in seen
    refused = lto.post(
        reverse("hold-lift", args=[hold.reference]),
        {"evidence": evidence("lto.pdf"), "note": "Lifting."},
    )
    assert refused.status_code == 403
    assert "Only PNP-HPG, which placed hold" in refused.content.decode()
    hold.refresh_from_db()
    assert hold.is_active

    lifted = client.post(
        reverse("hold-lift", args=[hold.reference]),
        {"evidence": evidence("recovered.pdf"), "note": "Recovered."},
    )
    assert lifted.status_code == 302
    hold.refresh_from_db()
    assert hold.status == "lifted"
    history = lto.get(reverse("vehicle-ownership", args=[vehicle.pk])).content.decode()
    assert "was <strong>placed</strong>" in history and "was <strong>lifted</strong>" in history


def test_the_place_form_refuses_bad_input_with_a_message_and_changes_nothing(world, client):
    client.force_login(world.hpg_officer)
    before = rows()

    for data, message in (
        ({"vin": "SHORT", "reason": "stolen", "evidence": evidence()}, "exactly 17"),
        ({"vin": UNKNOWN_VIN, "reason": "court_order", "evidence": evidence()}, "valid choice"),
        ({"vin": UNKNOWN_VIN, "reason": "stolen"}, "This field is required"),
        (
            {"vin": UNKNOWN_VIN, "reason": "stolen", "evidence": evidence("x.gif", b"GIF89a;")},
            "a GIF image",
        ),
    ):
        response = client.post(reverse("hold-new"), {**data, "note": "A note."})
        assert response.status_code == 422, (data, response.status_code)
        assert message in response.content.decode(), data

    assert rows() == before


@pytest.mark.parametrize("who", ["owner", "insurer_officer", "emission_officer"])
def test_the_holds_pages_and_evidence_are_404_for_anyone_but_the_office_and_the_lto(
    world, client, who
):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)
    client.force_login(getattr(world, who))

    for url in (
        reverse("holds"),
        reverse("hold-new"),
        reverse("hold-detail", args=[hold.reference]),
        reverse("hold-evidence", args=[hold.evidence.public_id]),
    ):
        assert client.get(url).status_code == 404, url
    lto = APIClient()
    lto.force_login(world.lto_admin)
    assert lto.get(reverse("hold-evidence", args=[hold.evidence.public_id])).content == PDF


def test_the_owner_is_told_whom_to_contact_and_never_sees_the_reason_or_evidence(
    world, client, contact
):
    application = filed_application(world)
    hold = place_stolen(world, application.vehicle.vin)
    client.force_login(world.owner)

    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    notes = Notification.objects.filter(recipient=world.owner, event="hold_placed")

    assert "A hold exists on this vehicle" in page and "alarms@hpg.example.ph" in page
    for text in (page, *[n.body for n in notes]):
        assert hold.reference not in text and "stolen" not in text.lower()
        assert "Marikina" not in text and str(hold.evidence.public_id) not in text
        assert hold.evidence.original_name not in text
    lto = APIClient()
    lto.force_login(world.lto_admin)
    banner = lto.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert 'data-testid="hold-banner"' in banner and hold.reference in banner
    queue = lto.get(reverse("lto-queue")).content.decode()
    assert 'data-testid="on-hold"' in queue


def test_the_public_verify_page_says_on_hold_and_nothing_more(world, client):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)

    page = client.get(reverse("verify-search"), {"q": vehicle.plate_number}).content.decode()

    assert "On hold" in page
    assert hold.reference not in page and "stolen" not in page.lower() and "PNP-HPG" not in page
    lift(world, hold)
    again = client.get(reverse("verify-search"), {"q": vehicle.plate_number}).content.decode()
    assert "On hold" not in again


def test_the_sale_and_renewal_pages_refuse_a_held_vehicle_with_the_notice(world, client, contact):
    vehicle = registered(world)
    place_stolen(world, vehicle.vin)
    client.force_login(world.owner)

    sale = client.post(
        reverse("sale-start", args=[vehicle.pk]), {"buyer_email": world.other_owner.email}
    )
    renewal = client.post(reverse("application-new"), {"vehicle": vehicle.pk, "type": "renewal"})

    for response in (sale, renewal):
        assert response.status_code == 409, response.status_code
        assert "A hold exists on this vehicle" in response.content.decode()
        assert "alarms@hpg.example.ph" in response.content.decode()
    assert not Sale.objects.filter(vehicle=vehicle).exists()


# API


def body(vin: str, reason: str = "stolen", content: bytes = PDF) -> dict:
    return {
        "vin": vin,
        "reason": reason,
        "note": "Alarm 118.",
        "evidence": {
            "file_name": "alarm.pdf",
            "content_base64": base64.b64encode(content).decode(),
        },
    }


def hpg_key(world) -> APIClient:
    _, key = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="alarms", scopes=["decide"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_the_api_places_once_per_idempotency_key_lists_and_lifts(world):
    vehicle = registered(world)
    client = hpg_key(world)

    first = client.post(
        "/api/v1/holds/", body(vehicle.vin), format="json", HTTP_IDEMPOTENCY_KEY="h-1"
    )
    again = client.post(
        "/api/v1/holds/", body(vehicle.vin), format="json", HTTP_IDEMPOTENCY_KEY="h-1"
    )

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json() == first.json()
    assert Hold.objects.count() == 1
    reference = first.json()["reference"]
    assert first.json()["ledger"]["tx_id"] == Hold.objects.get().ledger_tx_id
    listed = client.get("/api/v1/holds/", {"status": "active"}).json()
    assert [h["reference"] for h in listed] == [reference]
    lifted = client.post(
        f"/api/v1/holds/{reference}/lift/",
        {"note": "Recovered.", "evidence": body(vehicle.vin)["evidence"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="l-1",
    )
    assert lifted.status_code == 200, lifted.content
    assert lifted.json()["status"] == "lifted" and lifted.json()["lift_ledger"]["tx_id"]


def test_the_api_refuses_with_problems_and_changes_nothing(world):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)
    client = hpg_key(world)
    lto = APIClient()
    lto.force_login(world.lto_admin)
    before = rows()

    assert_problem(client.post("/api/v1/holds/", body("NOT-A-VIN"), format="json"), 422, "invalid")
    assert_problem(
        client.post("/api/v1/holds/", body(UNKNOWN_VIN, "court_order"), format="json"),
        403,
        "permission_denied",
    )
    missing = {**body(UNKNOWN_VIN)}
    del missing["evidence"]
    assert client.post("/api/v1/holds/", missing, format="json").status_code == 400
    refused = lto.post(
        f"/api/v1/holds/{hold.reference}/lift/",
        {"note": "n", "evidence": body(UNKNOWN_VIN)["evidence"]},
        format="json",
    )
    assert_problem(refused, 403, "permission_denied")
    assert "Only PNP-HPG" in refused.json()["detail"]

    assert rows() == before


def test_the_api_refuses_a_held_vehicle_s_sale_and_renewal_and_its_status_says_on_hold(world):
    vehicle = registered(world)
    place_stolen(world, vehicle.vin)
    owner = APIClient()
    owner.force_login(world.owner)

    sale = owner.post(
        "/api/v1/sales/",
        {"vehicle": vehicle.pk, "buyer_email": world.other_owner.email},
        format="json",
    )
    renewal = owner.post(
        "/api/v1/applications/", {"vehicle": vehicle.pk, "type": "renewal"}, format="json"
    )
    deregistration = APIClient()
    deregistration.force_login(world.lto_admin)
    dereg = deregistration.post(
        f"/api/v1/vehicles/{vehicle.pk}/deregister/",
        {"reason": "scrapped", "note": "n", "evidence": body(vehicle.vin)["evidence"]},
        format="json",
    )
    status = owner.get("/api/v1/status/", {"plate": vehicle.plate_number})

    for response in (sale, renewal, dereg):
        problem = assert_problem(response, 409, "on_hold")
        assert "A hold exists on this vehicle" in problem["detail"]
    assert status.status_code == 200 and status.json()["on_hold"] is True
    assert "stolen" not in status.content.decode()


def test_a_hold_stops_the_approval_of_an_open_clearance_but_not_its_rejection(world):
    application, requests = sent_for_clearance(world, filed_application(world))
    emission = requests["EMISSION"]
    clearance_services.clearance_claim(request_id=emission.pk, officer=world.emission_officer)
    place_stolen(world, application.vehicle.vin)

    with pytest.raises(OnHold, match="cannot be cleared: A hold exists"):
        clearance_services.clearance_decide(
            request_id=emission.pk,
            officer=world.emission_officer,
            decision="approved",
            remarks="",
            findings=findings_for(emission),
        )
    emission.refresh_from_db()
    assert emission.status == "in_review"
    rejected = clearance_services.clearance_decide(
        request_id=emission.pk,
        officer=world.emission_officer,
        decision="rejected",
        remarks="The vehicle is reported stolen.",
    )
    assert rejected.to_status == "rejected"
