"""What the review of the vehicle's-life work found, each pinned: a mortgaged vehicle is not
deregistered; a former owner does not see the present owner's mortgage or holds; a plate with
no schedule is refused at approval and never breaks an owner's page."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kernel.errors import Conflict
from ledger.exceptions import LedgerRejected
from ledger.models import LedgerEntry
from registry import mortgages
from registry import services as registry_services
from registry.deregistration import vehicle_deregister
from registry.models import Vehicle
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance
from tests.paying import pay_in_full
from tests.registry.test_holds import place_stolen
from tests.registry.test_mortgages import annotated, lenders  # noqa: F401  (fixture)
from tests.transfers import PDF, registered, transferred


def deregister(world, vehicle):  # type: ignore[no-untyped-def]
    return vehicle_deregister(
        vehicle_id=vehicle.pk,
        actor=world.lto_admin,
        reason="exported",
        evidence=SimpleUploadedFile("export.pdf", PDF),
        note="Export papers presented.",
    )


def test_a_mortgaged_vehicle_is_not_deregistered_until_its_lender_releases_it(
    world,
    lenders,  # noqa: F811
):
    mortgage = annotated(world, lenders)
    entries = LedgerEntry.objects.count()

    with pytest.raises(Conflict, match=f"carries chattel mortgage {mortgage.reference}"):
        deregister(world, mortgage.vehicle)

    assert Vehicle.objects.get(pk=mortgage.vehicle_id).is_active
    assert LedgerEntry.objects.count() == entries
    mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)
    deregister(world, mortgage.vehicle)
    assert not Vehicle.objects.get(pk=mortgage.vehicle_id).is_active


def test_the_chaincode_refuses_to_deregister_a_mortgaged_vehicle(world, lenders):  # noqa: F811
    from chaincode.rules import DeregistrationReason
    from ledger import get_ledger
    from registry.deregistration import deregistration_record

    mortgage = annotated(world, lenders)
    record = deregistration_record(
        vin=mortgage.vehicle.vin,
        reason=DeregistrationReason.EXPORTED,
        evidence_digest="e" * 64,
        change_id=uuid.UUID("f0e1d2c3-b4a5-4697-8877-665544332211"),
        signer_msp="LTOMSP",
    )
    with pytest.raises(LedgerRejected, match="carries an active mortgage"):
        get_ledger().deregister_vehicle(record)


def test_a_former_owner_sees_neither_the_new_owners_mortgage_nor_a_hold(
    world,
    client,
    lenders,  # noqa: F811
):
    application = transferred(world)
    vehicle = application.vehicle
    mortgage = mortgages.mortgage_propose(
        actor=lenders.officer, vehicle=vehicle.vin, owner_email=world.other_owner.email
    )
    mortgages.mortgage_answer(owner=world.other_owner, reference=mortgage.reference, accept=True)
    place_stolen(world, vehicle.vin)
    url = reverse("vehicle-ownership", args=[vehicle.pk])

    client.force_login(world.owner)  # the seller: no longer the owner
    seller_sees = client.get(url).content.decode()
    client.force_login(world.other_owner)
    owner_sees = client.get(url).content.decode()

    assert lenders.bank.name not in seller_sees and mortgage.reference not in seller_sees
    assert 'data-testid="hold-notice"' not in seller_sees
    assert lenders.bank.name in owner_sees and 'data-testid="hold-notice"' in owner_sees


@pytest.mark.parametrize("plate", ["TEMP", "ABC 1"])
def test_a_plate_without_the_digits_of_a_schedule_is_refused_at_approval(world, plate):
    application, requests = sent_for_clearance(world, filed_application(world))
    for request in requests.values():
        claim_and_approve(world, request)

    pay_in_full(application)
    with pytest.raises(ValidationError, match="cannot be issued: a plate is letters and digits"):
        registry_services.registration_approve(
            application_id=application.pk, actor=world.lto_admin, plate_number=plate
        )
    application.refresh_from_db()
    assert application.status == "cleared" and not application.vehicle.plate_number


def test_an_owner_whose_old_plate_gives_no_schedule_still_sees_the_pages(world, client):
    vehicle = registered(world)
    Vehicle.objects.filter(pk=vehicle.pk).update(plate_number="ABC 1")
    client.force_login(world.owner)

    assert client.get(reverse("home")).status_code == 200
    with pytest.raises(ValidationError, match="gives no renewal schedule"):
        registry_services.application_create(
            applicant=world.owner, vehicle_id=vehicle.pk, type="renewal"
        )
