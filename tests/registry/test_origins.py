"""Dealers' origin records (issue 14): a dealer records a new vehicle before any owner exists,
signed on the ledger as the dealer its certificate names; the buyer registers it from the
dealer's sale invitation without typing its numbers; hand-typed numbers cannot squat it."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.verification import repair_ledger_only
from kernel.errors import Conflict, PermissionDenied
from ledger import get_ledger, keepers
from ledger.base import VehicleRegistration, owner_pseudonym
from ledger.events import LedgerEvent
from ledger.models import LedgerEntry
from notifications.models import Notification
from organisations.models import Membership, Organisation
from organisations.services import api_key_create
from registry import origins, sales
from registry import services as registry_services
from registry.document_services import document_checklist, missing_documents
from registry.models import (
    DocumentRequirement,
    OriginFlag,
    OriginRecord,
    RegistrationApplication,
    Sale,
    Vehicle,
)
from tests.conftest import (
    claim_and_approve,
    registered_application,
    sent_for_clearance,
    with_required_documents,
)
from tests.factories import OrganisationFactory, UserFactory, VehicleFactory, random_vin
from tests.paying import pay_in_full

DEALER_MSP = "DealerMSP"


def dealer_with_officer(code: str = "manila-bay-motors", name: str = "Manila Bay Motors"):
    dealer = OrganisationFactory(kind="DEALER", code=code, name=name, msp_id=DEALER_MSP)
    officer = UserFactory(username=f"{code}.officer")
    Membership.objects.create(user=officer, organisation=dealer, role=Membership.Role.OFFICER)
    return dealer, officer


@pytest.fixture
def dealer(world):
    return dealer_with_officer()


def declaration(**overrides: object) -> dict[str, object]:
    numbers = random_vin()
    return {
        "vin": numbers,
        "engine_number": f"2NR{numbers[-8:]}",
        "chassis_number": f"MHF{numbers[-9:]}",
        "make": "Toyota",
        "model": "Vios 1.3 XLE",
        "year": 2026,
        "body_type": Vehicle.BodyType.SEDAN,
        "colour": "Red Mica",
        "fuel": Vehicle.Fuel.GASOLINE,
        "csr_number": "CSR-2026-000123",
        "invoice_number": "SI-88811",
        "invoice_date": timezone.localdate(),
        **overrides,
    }


def record(dealer, officer, **overrides: object) -> OriginRecord:
    return origins.origin_record(officer=officer, dealer_id=dealer.pk, **declaration(**overrides))


def verify() -> tuple[str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue() + err.getvalue(), error
    return out.getvalue() + err.getvalue(), None


def reconcile() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", "--idle-seconds", "0", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_a_dealer_records_a_vehicle_signed_on_the_ledger_as_the_dealer_its_certificate_names(
    dealer,
):
    organisation, officer = dealer

    origin = record(organisation, officer, vin="  jtdbr32e720054321 ")

    assert origin.vin == "JTDBR32E720054321" and origin.recorded_by == officer
    assert origin.ledger_backend == "embedded" and origin.ledger_tx_id
    entry = LedgerEntry.objects.get(tx_id=origin.ledger_tx_id)
    assert entry.function == "RecordOrigin" and entry.creator_msp == DEALER_MSP
    state = get_ledger().world_state("GetOrigin", origin.vin)
    assert state["dealer"] == "manila-bay-motors" and state["msp_id"] == DEALER_MSP
    assert state["record_digest"] == origin.record_digest == origins.origin_digest(origin)
    # Only the digest goes on the ledger: no invoice or CSR number, no make or model.
    said = str(entry.args) + entry.response
    assert "SI-88811" not in said and "CSR-2026" not in said and "Vios" not in said
    assert origins.origin_status(origin) == "unsold"
    output, error = verify()
    assert error is None, output
    output, error = reconcile()
    assert error is None and output.startswith("OK:"), output


def test_only_an_active_officer_of_the_dealer_records_its_origins(world, dealer):
    organisation, _ = dealer
    _, other_dealers_officer = dealer_with_officer("cebu-honda", "Cebu Honda")
    lapsed = UserFactory(username="lapsed.dealer")
    Membership.objects.create(user=lapsed, organisation=organisation, is_active=False)
    before = (OriginRecord.objects.count(), LedgerEntry.objects.count())

    for person in (world.hpg_officer, world.owner, world.lto_admin, other_dealers_officer, lapsed):
        with pytest.raises(PermissionDenied, match="Only an active officer of this accredited"):
            record(organisation, person)
    Organisation.objects.filter(pk=organisation.pk).update(is_active=False)
    with pytest.raises(PermissionDenied):
        record(organisation, dealer[1])

    assert (OriginRecord.objects.count(), LedgerEntry.objects.count()) == before


@pytest.mark.parametrize("field", ["vin", "engine_number", "chassis_number"])
def test_numbers_on_an_origin_or_of_any_known_vehicle_are_refused_with_nothing_saved(dealer, field):
    organisation, officer = dealer
    first = record(organisation, officer)
    retired = VehicleFactory(is_active=False)
    before = (OriginRecord.objects.count(), LedgerEntry.objects.count())

    with pytest.raises(ValidationError) as on_origin:
        record(organisation, officer, **{field: getattr(first, field).lower()})
    with pytest.raises(ValidationError) as on_vehicle:
        record(organisation, officer, **{field: getattr(retired, field)})

    assert "already on Manila Bay Motors's origin record" in on_origin.value.message_dict[field][0]
    assert "already known to the LTO" in on_vehicle.value.message_dict[field][0]
    assert (OriginRecord.objects.count(), LedgerEntry.objects.count()) == before


def test_a_malformed_vin_is_refused(dealer):
    with pytest.raises(ValidationError) as refused:
        record(*dealer, vin="JTDBR32E72OO12345")

    assert "never uses I, O or Q" in refused.value.message_dict["vin"][0]
    assert not OriginRecord.objects.exists()


def accepted_sale(world, dealer, **overrides: object) -> Sale:
    organisation, officer = dealer
    origin = record(organisation, officer, **overrides)
    sale = sales.origin_sale_start(
        officer=officer, origin_id=origin.pk, buyer_email=world.other_owner.email
    )
    return sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))


def test_the_buyer_s_acceptance_files_a_new_registration_of_the_origin_s_vehicle(
    world, dealer, eager_celery, django_capture_on_commit_callbacks
):
    organisation, officer = dealer
    origin = record(organisation, officer)
    with django_capture_on_commit_callbacks(execute=True):
        sale = sales.origin_sale_start(
            officer=officer, origin_id=origin.pk, buyer_email=world.other_owner.email
        )
    assert origins.origin_status(OriginRecord.objects.get(pk=origin.pk)) == "invitation sent"
    [invitation] = [m for m in mail.outbox if world.other_owner.email in m.to]
    assert "Manila Bay Motors" in invitation.subject and origin.vin in invitation.body
    token = re.search(r"/sales/answer/([^/\s]+)/", invitation.body).group(1)

    sale = sales.sale_accept(buyer=world.other_owner, token=token)

    application = sale.application
    vehicle = Vehicle.objects.get(pk=application.vehicle_id)
    assert application.type == RegistrationApplication.Type.NEW
    assert application.applicant == vehicle.owner == world.other_owner
    for field in ("vin", "engine_number", "chassis_number", "make", "model", "year", "fuel"):
        assert getattr(vehicle, field) == getattr(origin, field)
    origin.refresh_from_db()
    assert origin.vehicle == vehicle and origins.origin_status(origin) == "sold"
    assert Notification.objects.filter(recipient=officer, event="sale_answered").exists()


def test_the_origin_stands_for_the_invoice_and_csr_of_its_buyer_s_registration(world, dealer):
    for doc_type in ("sales_invoice", "csr", "insurance_coc"):
        DocumentRequirement.objects.get_or_create(application_type="new", doc_type=doc_type)
    by_hand = registry_services.application_create(
        applicant=world.owner, vehicle_id=VehicleFactory(owner=world.owner).pk, type="new"
    )

    application = accepted_sale(world, dealer).application

    def missing(application):
        return [item.label for item in missing_documents(document_checklist(application))]

    assert missing(application) == ["Insurance certificate of cover"]
    assert "Sales invoice" in missing(by_hand)


def test_the_buyer_cannot_retype_what_the_dealer_declared(world, dealer):
    application = accepted_sale(world, dealer).application

    with pytest.raises(ValidationError, match="as Manila Bay Motors's origin record declares"):
        registry_services.vehicle_correct(
            application_id=application.pk, actor=world.other_owner, engine_number="OTHER123"
        )
    corrected = registry_services.vehicle_correct(
        application_id=application.pk, actor=world.other_owner, classification="for_hire"
    )
    assert corrected.classification == "for_hire"


def test_the_dealer_is_told_when_its_vehicle_is_registered(world, dealer):
    application = accepted_sale(world, dealer).application
    with_required_documents(application)
    registry_services.application_submit(application_id=application.pk, actor=world.other_owner)

    registered_application(world, application)

    origin = OriginRecord.objects.get(vehicle_id=application.vehicle_id)
    assert origins.origin_status(origin) == "registered"
    assert Sale.objects.get(origin=origin).status == Sale.Status.COMPLETED
    told = Notification.objects.get(recipient=dealer[1], event="origin_registered")
    assert origin.vin in told.body
    state = get_ledger().world_state("GetVehicle", origin.vin)
    assert state is not None  # RegisterVehicle after RecordOrigin, for the same VIN
    output, error = reconcile()
    assert error is None and output.startswith("OK:"), output


def test_a_second_invitation_or_a_sale_of_a_sold_origin_is_refused(world, dealer):
    organisation, officer = dealer
    origin = record(organisation, officer)
    sales.origin_sale_start(officer=officer, origin_id=origin.pk, buyer_email="a@example.ph")
    with pytest.raises(Conflict, match="already has a sale invitation open"):
        sales.origin_sale_start(officer=officer, origin_id=origin.pk, buyer_email="b@example.ph")
    _, stranger = dealer_with_officer("cebu-honda", "Cebu Honda")
    with pytest.raises(PermissionDenied):
        sales.origin_sale_start(officer=stranger, origin_id=origin.pk, buyer_email="c@ex.ph")


def hand_entry(owner, **numbers: str) -> dict[str, object]:
    return {
        "owner": owner,
        "vin": random_vin(),
        "engine_number": "HAND" + random_vin()[:8],
        "chassis_number": "HANDC" + random_vin()[:8],
        "make": "Toyota",
        "model": "Vios",
        "year": 2026,
        "body_type": "sedan",
        "colour": "Red",
        "fuel": "gasoline",
        **numbers,
    }


def test_a_hand_entered_vin_on_an_origin_record_is_refused_naming_the_dealer(world, dealer):
    origin = record(*dealer)

    with pytest.raises(ValidationError) as refused:
        registry_services.vehicle_register(
            **hand_entry(world.owner, vin=origin.vin.lower()), flag_reason="It is mine."
        )

    assert refused.value.message_dict["vin"] == [
        "This VIN was recorded by dealer Manila Bay Motors; ask them for the sale invitation, "
        "which registers it without typing its numbers."
    ]
    assert not Vehicle.objects.filter(vin=origin.vin).exists()


def test_a_hand_entered_engine_number_on_an_origin_is_refused_unless_flagged_to_the_lto(
    world, four_eyes, dealer
):
    origin = record(*dealer)
    entry = hand_entry(world.owner, engine_number=origin.engine_number)
    with pytest.raises(ValidationError) as refused:
        registry_services.vehicle_register(**entry)
    assert "flag it to the LTO" in refused.value.message_dict["engine_number"][0]
    assert not Vehicle.objects.filter(vin=entry["vin"]).exists()

    vehicle = registry_services.vehicle_register(
        **entry, flag_reason="The engine was replaced at the casa."
    )

    flag = OriginFlag.objects.get(vehicle=vehicle)
    assert flag.origin == origin and flag.matched == "engine number" and flag.is_open
    application = registry_services.application_create(
        applicant=world.owner, vehicle_id=vehicle.pk, type="new"
    )
    with_required_documents(application)
    registry_services.application_submit(application_id=application.pk, actor=world.owner)
    with pytest.raises(Conflict, match="clear the flag with a note, or reject"):
        registered_application(world, application)
    application.refresh_from_db()
    assert application.status == "cleared" and not Vehicle.objects.get(pk=vehicle.pk).plate_number
    with pytest.raises(PermissionDenied):
        origins.origin_flag_clear(actor=world.owner, application_id=application.pk, note="ok")

    origins.origin_flag_clear(
        actor=world.lto_admin, application_id=application.pk, note="Engine swap receipt seen."
    )
    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    application.refresh_from_db()
    assert application.status == "approved"


def test_a_correction_cannot_move_a_hand_entered_vehicle_onto_an_origin_s_vin(world, dealer):
    origin = record(*dealer)
    vehicle = registry_services.vehicle_register(**hand_entry(world.owner))
    application = registry_services.application_create(
        applicant=world.owner, vehicle_id=vehicle.pk, type="new"
    )

    with pytest.raises(ValidationError, match="recorded by dealer Manila Bay Motors"):
        registry_services.vehicle_correct(
            application_id=application.pk, actor=world.owner, vin=origin.vin
        )


def test_the_keeper_confirms_an_origin_from_its_event_and_verify_names_a_changed_row(dealer):
    origin = record(*dealer)
    entry = LedgerEntry.objects.get(tx_id=origin.ledger_tx_id)
    [event] = entry.events
    # The event as the listener hands it over (the embedded ledger keeps it on its entry).
    outcome = keepers.confirm(
        event=LedgerEvent(
            block=entry.seq,
            tx_id=entry.tx_id,
            name=event["name"],
            payload=event["payload"].encode(),
        )
    )
    assert outcome.confirmed and json.loads(event["payload"])["vin"] == origin.vin
    origin.refresh_from_db()
    assert origin.ledger_confirmed_at is not None

    OriginRecord.objects.filter(pk=origin.pk).update(engine_number="PLANTED123")

    output, error = verify()
    assert error is not None
    assert f"origin record {origin.vin} (change {origin.ledger_change_id})" in output
    assert "differs from the declaration it digests" in output


def test_reconcile_names_an_origin_whose_dealer_was_changed_behind_the_ledger_s_back(dealer):
    origin = record(*dealer)
    other, _ = dealer_with_officer("cebu-honda", "Cebu Honda")
    OriginRecord.objects.filter(pk=origin.pk).update(dealer=other)

    output, error = reconcile()

    assert error is not None
    assert "differs from the ledger's origin of its VIN in dealer" in output


def test_a_lost_origin_is_not_repaired_and_the_dealer_s_new_entry_is_answered_from_the_ledger(
    dealer,
):
    organisation, officer = dealer
    facts = declaration()
    origin = origins.origin_record(officer=officer, dealer_id=organisation.pk, **facts)
    # The database loses the row the ledger committed (its transaction failed after the write).
    OriginRecord.objects.filter(pk=origin.pk).delete()

    output, error = verify()
    change_id = str(origin.ledger_change_id)
    assert error is not None
    assert f"ledger change {change_id}: has no history row in the database" in output
    # What reconcile_ledger --repair does with it (the embedded ledger lists no change ids
    # for reconcile; verify_ledger's replay does).
    [repair] = repair_ledger_only(
        ledger_only={change_id: get_ledger().get_change(change_id)}, backend="embedded"
    )
    assert not repair.repaired and "keeps only its digest" in repair.detail

    with pytest.raises(ValidationError, match="another declaration of this VIN"):
        origins.origin_record(
            officer=officer, dealer_id=organisation.pk, **{**facts, "colour": "Blue"}
        )
    again = origins.origin_record(officer=officer, dealer_id=organisation.pk, **facts)
    assert again.ledger_tx_id == origin.ledger_tx_id


def test_an_invoice_dated_in_the_future_is_refused(dealer):
    with pytest.raises(ValidationError, match="cannot be in the future"):
        record(*dealer, invoice_date=timezone.localdate() + dt.timedelta(days=1))


# The pages.


def test_the_dealer_s_pages_record_a_vehicle_and_invite_its_buyer(client, world, dealer):
    organisation, officer = dealer
    client.force_login(officer)
    assert client.get("/").url == reverse("dealer-origins", args=[organisation.code])
    facts = declaration()
    facts["invoice_date"] = facts["invoice_date"].isoformat()

    recorded = client.post(reverse("dealer-origin-new", args=[organisation.code]), facts)

    origin = OriginRecord.objects.get(vin=facts["vin"])
    assert recorded.status_code == 302 and origin.recorded_by == officer
    again = client.post(reverse("dealer-origin-new", args=[organisation.code]), facts)
    assert again.status_code == 422 and "already on Manila Bay Motors" in again.content.decode()
    listed = client.get(reverse("dealer-origins", args=[organisation.code])).content.decode()
    assert origin.vin in listed and "unsold" in listed
    invited = client.post(
        reverse("dealer-origin-sell", args=[organisation.code, origin.pk]),
        {"buyer_email": world.other_owner.email},
    )
    assert invited.status_code == 302
    page = client.get(reverse("dealer-origin", args=[organisation.code, origin.pk]))
    assert "invitation sent" in page.content.decode()


def test_only_the_dealer_s_own_people_see_its_pages(client, world, dealer):
    organisation, officer = dealer
    origin = record(organisation, officer)
    _, stranger = dealer_with_officer("cebu-honda", "Cebu Honda")
    pages = [
        reverse("dealer-origins", args=[organisation.code]),
        reverse("dealer-origin-new", args=[organisation.code]),
        reverse("dealer-origin", args=[organisation.code, origin.pk]),
    ]
    for person in (stranger, world.owner, world.hpg_officer, world.lto_admin):
        client.force_login(person)
        for page in pages:
            assert client.get(page).status_code == 404, (person, page)
        sold = client.post(
            reverse("dealer-origin-sell", args=[organisation.code, origin.pk]),
            {"buyer_email": "x@example.ph"},
        )
        assert sold.status_code == 404
    # Nor can another dealer reach this one's record through its own address.
    client.force_login(stranger)
    assert client.get(reverse("dealer-origin", args=["cebu-honda", origin.pk])).status_code == 404
    assert not Sale.objects.exists()


def test_the_buyer_registers_from_the_link_without_typing_numbers(client, world, dealer):
    organisation, officer = dealer
    origin = record(organisation, officer)
    sale = sales.origin_sale_start(
        officer=officer, origin_id=origin.pk, buyer_email=world.other_owner.email
    )
    client.force_login(world.other_owner)
    link = reverse("sale-answer", args=[sales.sale_token(sale)])
    offer = client.get(link).content.decode()
    assert "Manila Bay Motors is selling you a new vehicle" in offer and origin.vin in offer

    accepted = client.post(link, {"answer": "accept"})

    sale.refresh_from_db()
    assert accepted.url == reverse("application-detail", args=[sale.application_id])
    page = client.get(accepted.url).content.decode()
    assert "Dealer Manila Bay Motors: CSR CSR-2026-000123" in page
    # The correction form shows the dealer's numbers read-only.
    assert re.search(r'name="vin"[^>]*disabled', page) or re.search(
        r'disabled[^>]*name="vin"', page
    )
    corrected = client.post(
        reverse("vehicle-correct", args=[sale.application_id]),
        {"vin": random_vin(), "colour": "Black", "classification": "private"},
    )
    assert corrected.status_code == 302
    vehicle = Vehicle.objects.get(pk=sale.application.vehicle_id)
    assert vehicle.vin == origin.vin and vehicle.colour == origin.colour


def test_the_lto_sees_which_way_each_vehicle_came_and_filters_the_flagged(client, world, dealer):
    origin = record(*dealer)
    dealer_application = accepted_sale(world, dealer).application
    flagged_vehicle = registry_services.vehicle_register(
        **hand_entry(world.owner, chassis_number=origin.chassis_number), flag_reason="Re-stamped."
    )
    flagged = registry_services.application_create(
        applicant=world.owner, vehicle_id=flagged_vehicle.pk, type="new"
    )
    by_hand = registry_services.application_create(
        applicant=world.owner,
        vehicle_id=registry_services.vehicle_register(**hand_entry(world.owner)).pk,
        type="new",
    )
    client.force_login(world.lto_admin)

    def shown(application) -> str:
        page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
        return re.search(r'data-testid="vehicle-origin">(.*?)</dd>', page, re.S).group(1)

    assert "Dealer Manila Bay Motors" in shown(dealer_application)
    assert "Entered by hand" in shown(by_hand) and "Flagged" not in shown(by_hand)
    assert "Flagged to the LTO" in shown(flagged) and "Re-stamped." in shown(flagged)
    queue = client.get(reverse("lto-queue"), {"flagged": "on"}).content.decode()
    assert flagged.reference in queue
    assert by_hand.reference not in queue and dealer_application.reference not in queue
    cleared = client.post(
        reverse("origin-flag-clear", args=[flagged.pk]), {"note": "Stencil checked."}
    )
    assert cleared.status_code == 302
    assert "Flag cleared by the LTO" in shown(flagged)
    assert (
        flagged.reference
        not in client.get(reverse("lto-queue"), {"flagged": "on"}).content.decode()
    )


def test_the_hand_entry_page_offers_the_flag_and_files_it(client, world, dealer):
    origin = record(*dealer)
    entry = {
        **hand_entry(world.owner, engine_number=origin.engine_number),
        "classification": "private",
    }
    del entry["owner"]
    client.force_login(world.owner)

    refused = client.post(reverse("vehicle-new"), entry)
    assert refused.status_code == 422 and "flag it to the LTO" in refused.content.decode()
    squatting = client.post(
        reverse("vehicle-new"), {**entry, "vin": origin.vin, "flag_reason": "x"}
    )
    assert squatting.status_code == 422
    assert "ask them for the sale invitation" in squatting.content.decode()

    filed = client.post(reverse("vehicle-new"), {**entry, "flag_reason": "New engine."})

    assert filed.status_code == 302
    assert OriginFlag.objects.get(vehicle__vin=entry["vin"]).owner_reason == "New engine."


# The API.


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def api_declaration(**overrides: object) -> dict[str, object]:
    facts = declaration(**overrides)
    return {**facts, "invoice_date": facts["invoice_date"].isoformat()}


def test_a_dealer_records_through_the_api_with_an_idempotency_key(dealer):
    _, officer = dealer
    client, facts = api_as(officer), api_declaration()
    headers = {"HTTP_IDEMPOTENCY_KEY": "origin-0001"}

    first = client.post("/api/v1/origins/", facts, format="json", **headers)
    again = client.post("/api/v1/origins/", facts, format="json", **headers)

    assert first.status_code == again.status_code == 201, first.content
    assert first.json() == again.json() and OriginRecord.objects.count() == 1
    body = first.json()
    assert body["dealer"] == "manila-bay-motors" and body["status"] == "unsold"
    assert body["ledger"]["backend"] == "embedded" and body["vin"] == facts["vin"]
    assert [row["id"] for row in client.get("/api/v1/origins/").json()] == [body["id"]]
    duplicate = client.post("/api/v1/origins/", facts, format="json")
    assert duplicate.status_code == 422
    assert "already on Manila Bay Motors" in duplicate.json()["errors"]["vin"][0]


def test_a_dealer_s_key_records_and_invites_and_others_are_refused(world, dealer):
    organisation, officer = dealer
    Membership.objects.filter(user=officer).update(role=Membership.Role.ADMIN)
    _, read_key = api_key_create(
        organisation_id=organisation.pk, admin=officer, name="read", scopes=["read"]
    )
    _, write_key = api_key_create(
        organisation_id=organisation.pk, admin=officer, name="dms", scopes=["read", "decide"]
    )
    keyed = APIClient()

    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    assert keyed.post("/api/v1/origins/", api_declaration(), format="json").status_code == 403
    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {write_key}")
    made = keyed.post("/api/v1/origins/", api_declaration(), format="json")
    assert made.status_code == 201, made.content
    invited = keyed.post(
        f"/api/v1/origins/{made.json()['id']}/sales/",
        {"buyer_email": world.other_owner.email},
        format="json",
    )
    assert invited.status_code == 201 and invited.json()["origin"] == made.json()["id"]
    assert invited.json()["vehicle"] is None

    for person in (world.owner, world.hpg_officer):
        refused = api_as(person).post("/api/v1/origins/", api_declaration(), format="json")
        assert refused.status_code == 403, refused.content
        assert api_as(person).get(f"/api/v1/origins/{made.json()['id']}/").status_code == 404


def test_the_buyer_accepts_through_the_api_and_the_resources_show_the_origin(world, dealer):
    organisation, officer = dealer
    origin = record(organisation, officer)
    sale = sales.origin_sale_start(
        officer=officer, origin_id=origin.pk, buyer_email=world.other_owner.email
    )
    buyer = api_as(world.other_owner)

    answered = buyer.post(
        "/api/v1/sales/answer/",
        {"token": sales.sale_token(sale), "answer": "accept"},
        format="json",
    )

    assert answered.status_code == 200, answered.content
    application = RegistrationApplication.objects.get(reference=answered.json()["application"])
    detail = buyer.get(f"/api/v1/applications/{application.pk}/").json()
    assert detail["type"] == "new" and detail["vehicle"]["vin"] == origin.vin
    assert detail["origin"]["dealer"] == "manila-bay-motors"
    assert detail["origin"]["csr_number"] == origin.csr_number and detail["origin_flag"] is None
    vehicle = buyer.get(f"/api/v1/vehicles/{application.vehicle_id}/").json()
    assert vehicle["came_from"] == "origin" and vehicle["engine_number"] == origin.engine_number
    lto = api_as(world.lto_admin).get(f"/api/v1/applications/{application.pk}/").json()
    assert lto["origin"]["invoice_number"] == origin.invoice_number


def test_a_hand_entered_vehicle_through_the_api_is_flagged_only_with_a_reason(world, dealer):
    origin = record(*dealer)
    entry = {k: v for k, v in hand_entry(world.owner).items() if k != "owner"}
    entry["engine_number"] = origin.engine_number
    owner = api_as(world.owner)

    refused = owner.post("/api/v1/vehicles/", entry, format="json")
    flagged = owner.post(
        "/api/v1/vehicles/", {**entry, "flag_reason": "Engine replaced."}, format="json"
    )

    assert refused.status_code == 422
    assert "flag it to the LTO" in refused.json()["errors"]["engine_number"][0]
    assert flagged.status_code == 201, flagged.content
    assert flagged.json()["came_from"] == "hand"
    assert flagged.json()["origin_flag"]["matched"] == "engine number"
    assert flagged.json()["origin_flag"]["is_open"] is True


def test_a_registration_restored_from_the_ledger_completes_the_dealer_s_sale(world, dealer):
    application = accepted_sale(world, dealer).application
    with_required_documents(application)
    registry_services.application_submit(application_id=application.pk, actor=world.other_owner)
    application, requests = sent_for_clearance(world, application)
    for request in requests.values():
        claim_and_approve(world, request)
    # The approval's ledger write committed and its database transaction was lost; the plate
    # was issued beforehand, so the vehicle's record is the one the ledger's digest covers.
    Vehicle.objects.filter(pk=application.vehicle_id).update(plate_number="NBC 1234")
    vehicle = Vehicle.objects.get(pk=application.vehicle_id)
    vehicle.mv_file_number = f"1300-{vehicle.pk:011d}"
    change_id = str(uuid.uuid4())
    get_ledger().register_vehicle(
        VehicleRegistration(
            vin=vehicle.vin,
            record_digest=registry_services.vehicle_digest(vehicle, owner_id=world.other_owner.pk),
            change_id=change_id,
            owner=owner_pseudonym(vehicle.vin, world.other_owner.pk),
            signer_msp="LTOMSP",
        )
    )

    [repair] = repair_ledger_only(
        ledger_only={change_id: get_ledger().get_change(change_id)}, backend="embedded"
    )

    assert repair.repaired, repair.detail
    origin = OriginRecord.objects.get(vehicle=vehicle)
    assert Sale.objects.get(origin=origin).status == Sale.Status.COMPLETED
    assert Notification.objects.filter(recipient=dealer[1], event="origin_registered").exists()
