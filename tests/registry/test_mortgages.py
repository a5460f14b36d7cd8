"""Chattel mortgages (issue 15): the owner consents in the app and the lender's mortgage is
annotated on the ledger signed with the lender's own identity; the CR and the verify page say
the vehicle is encumbered; a transfer waits for that lender's consent; only that lender
releases it (the service refuses another, and so does the chaincode when bypassed)."""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.verification import repair_ledger_only
from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.kinds.lender import LenderConsent
from clearance.models import ClearanceRequest
from kernel.errors import Conflict, PermissionDenied
from ledger import get_ledger, keepers
from ledger.base import MortgageRelease as MortgageReleaseRecord
from ledger.events import LedgerEvent
from ledger.exceptions import LedgerRejected
from ledger.models import LedgerEntry, WorldState
from notifications.models import Notification
from organisations.models import Membership, Organisation
from registry import mortgages, sales
from registry import services as registry_services
from registry.certificate import render_certificate
from registry.models import Mortgage, MortgageRelease, RegistrationApplication, Vehicle
from tests.conftest import World, claim_and_approve, sent_for_clearance
from tests.factories import OrganisationFactory, UserFactory
from tests.paying import pay_in_full
from tests.transfers import PDF, registered


@dataclass
class Lenders:
    bank: Organisation
    officer: object
    other: Organisation
    other_officer: object


@pytest.fixture
def lenders(world: World) -> Lenders:
    bank = OrganisationFactory(
        kind="LENDER", code="banco-mabuhay", name="Banco Mabuhay", msp_id="LenderMSP"
    )
    other = OrganisationFactory(
        kind="LENDER", code="asenso-finance", name="Asenso Finance", msp_id="LenderMSP"
    )
    officer, other_officer = UserFactory(username="lender.officer"), UserFactory()
    Membership.objects.create(user=officer, organisation=bank)
    Membership.objects.create(user=other_officer, organisation=other)
    return Lenders(bank, officer, other, other_officer)


def proposed(world: World, lenders: Lenders, vehicle: Vehicle | None = None) -> Mortgage:
    vehicle = vehicle or registered(world)
    return mortgages.mortgage_propose(
        actor=lenders.officer, vehicle=vehicle.vin, owner_email=world.owner.email
    )


def annotated(world: World, lenders: Lenders, vehicle: Vehicle | None = None) -> Mortgage:
    mortgage = proposed(world, lenders, vehicle)
    return mortgages.mortgage_answer(owner=world.owner, reference=mortgage.reference, accept=True)


def pdf_text(pdf: bytes) -> str:
    """The text a PDF draws (reportlab writes its pages ASCII85- and Flate-encoded)."""
    pages = re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    return "".join(
        zlib.decompress(base64.a85decode(page.group(1).strip(), adobe=True)).decode("latin-1")
        for page in pages
    )


def rows() -> tuple:
    """What a refusal must leave as it was."""
    return (
        list(Mortgage.objects.values_list("pk", "status", "consent_digest", "ledger_tx_id")),
        MortgageRelease.objects.count(),
        LedgerEntry.objects.count(),
        Notification.objects.count(),
    )


def test_the_owner_consents_and_the_mortgage_is_on_the_ledger_in_the_lenders_name(world, lenders):
    vehicle = registered(world)
    mortgage = proposed(world, lenders, vehicle)
    asked = Notification.objects.get(recipient=world.owner, event="mortgage_consent_requested")
    assert mortgage.reference in asked.body and mortgage.status == "proposed"

    mortgage = mortgages.mortgage_answer(
        owner=world.owner, reference=mortgage.reference, accept=True
    )

    assert mortgage.status == "annotated" and mortgage.ledger_backend == "embedded"
    entry = LedgerEntry.objects.get(tx_id=mortgage.ledger_tx_id)
    assert entry.function == "AnnotateMortgage" and entry.creator_msp == "LenderMSP"
    # The lender is the one its certificate's attribute names, not an argument.
    assert get_ledger().world_state("GetEncumbrance", vehicle.vin) == {
        "vin": vehicle.vin,
        "mortgage_id": mortgage.reference,
        "lender": "banco-mabuhay",
    }
    statement = mortgages.consent_statement(
        reference=mortgage.reference,
        vin=vehicle.vin,
        lender_code="banco-mabuhay",
        on=timezone.localdate(mortgage.answered_at),
    )
    assert mortgage.consent_digest == mortgages.sha256_hex(statement)
    written = entry.response + " ".join(WorldState.objects.values_list("value", flat=True))
    assert world.owner.email not in written and "Banco Mabuhay" not in written
    assert Notification.objects.filter(
        recipient=lenders.officer, event="mortgage_answered"
    ).exists()


def test_a_wrong_email_gets_the_same_neutral_answer_as_a_vehicle_that_does_not_exist(
    world, lenders
):
    vehicle = registered(world)
    before = rows()

    answers = []
    for plate_or_vin, email in (
        (vehicle.vin, world.other_owner.email),
        ("JTDBR32E720099999", world.owner.email),
        (vehicle.plate_number, "nobody@example.ph"),
    ):
        with pytest.raises(ValidationError) as refused:
            mortgages.mortgage_propose(
                actor=lenders.officer, vehicle=plate_or_vin, owner_email=email
            )
        answers.append(refused.value.message_dict)

    assert answers == [{"vehicle": [mortgages.NEUTRAL_REFUSAL]}] * 3
    assert rows() == before


def test_only_the_owner_asked_answers_and_only_a_lender_proposes(world, lenders):
    mortgage = proposed(world, lenders)
    before = rows()

    with pytest.raises(PermissionDenied, match="Only the owner the lender asked"):
        mortgages.mortgage_answer(
            owner=world.other_owner, reference=mortgage.reference, accept=True
        )
    with pytest.raises(PermissionDenied, match="Only a lender's officers"):
        mortgages.mortgage_propose(
            actor=world.hpg_officer, vehicle=mortgage.vehicle.vin, owner_email=world.owner.email
        )
    with pytest.raises(Conflict, match="already has a chattel mortgage proposed"):
        mortgages.mortgage_propose(
            actor=lenders.other_officer,
            vehicle=mortgage.vehicle.vin,
            owner_email=world.owner.email,
        )

    assert rows() == before


def test_a_declined_mortgage_changes_nothing_on_the_ledger(world, lenders):
    mortgage = proposed(world, lenders)
    entries = LedgerEntry.objects.count()

    mortgage = mortgages.mortgage_answer(
        owner=world.owner, reference=mortgage.reference, accept=False, reason="Not my loan."
    )

    assert mortgage.status == "declined" and not mortgage.ledger_tx_id
    assert LedgerEntry.objects.count() == entries
    assert mortgages.active_mortgage(mortgage.vehicle) is None


def test_the_cr_and_the_verify_page_say_encumbered_until_the_lender_releases(
    world, lenders, client
):
    mortgage = annotated(world, lenders)
    application = mortgage.vehicle.applications.get(type="new")
    verify_url = reverse("verify", args=[application.reference])

    pdf = pdf_text(render_certificate(application, "https://talaan.example/verify"))
    client.force_login(world.owner)
    ownership = client.get(reverse("vehicle-ownership", args=[mortgage.vehicle_id])).content
    public = Client().get(verify_url).content.decode()  # anyone, signed in or not

    assert "ENCUMBERED \\227 chattel mortgage in favour of Banco Mabuhay" in pdf
    assert b"Encumbered: chattel mortgage in favour of Banco Mabuhay" in ownership
    assert "Encumbered" in public and "Banco Mabuhay" not in public

    mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)

    pdf = pdf_text(render_certificate(application, "https://talaan.example/verify"))
    public = Client().get(verify_url).content.decode()  # anyone, signed in or not
    assert "ENCUMBERED" not in pdf and "Encumbered" not in public
    assert get_ledger().world_state("GetEncumbrance", mortgage.vehicle.vin) is None


def test_another_lender_cannot_release_it_neither_through_the_service_nor_on_the_ledger(
    world, lenders
):
    mortgage = annotated(world, lenders)
    before = rows()

    with pytest.raises(PermissionDenied, match="Only Banco Mabuhay, which holds mortgage"):
        mortgages.mortgage_release(actor=lenders.other_officer, reference=mortgage.reference)
    # Bypassing the app: the other lender's own identity asks the chaincode directly.
    with pytest.raises(LedgerRejected, match="Only banco-mabuhay, which annotated mortgage"):
        get_ledger().record(
            MortgageReleaseRecord(
                mortgage_id=mortgage.reference,
                change_id="a-forged-release",
                signer_msp="LenderMSP",
                signer_identity="asenso-finance",
            )
        )

    assert rows() == before
    assert get_ledger().world_state("GetEncumbrance", mortgage.vehicle.vin)["lender"] == (
        "banco-mabuhay"
    )


def _transfer_filed(world: World, vehicle: Vehicle) -> RegistrationApplication:
    sale = sales.sale_start(
        seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.other_owner.email
    )
    application = sales.sale_accept(
        buyer=world.other_owner, token=sales.sale_token(sale)
    ).application
    assert application is not None
    from django.core.files.uploadedfile import SimpleUploadedFile

    from registry.document_services import document_upload

    for uploader, doc_type in (
        (world.owner, "deed_of_sale"),
        (world.other_owner, "government_id"),
        (world.other_owner, "insurance_coc"),
    ):
        document_upload(
            application_id=application.pk,
            uploader=uploader,
            doc_type=doc_type,
            upload=SimpleUploadedFile(f"{doc_type}.pdf", PDF),
        )
    registry_services.application_submit(application_id=application.pk, actor=world.other_owner)
    return application


def test_a_transfer_of_an_encumbered_vehicle_waits_for_that_lenders_consent(world, lenders):
    mortgage = annotated(world, lenders)
    application, requests = sent_for_clearance(world, _transfer_filed(world, mortgage.vehicle))
    assert set(requests) == {"HPG", "INSURANCE", "LENDER"}
    consent = requests["LENDER"]
    # Routed to the mortgage's lender, not to the first lender there is.
    assert consent.organisation == lenders.bank
    for kind in ("HPG", "INSURANCE"):
        claim_and_approve(world, requests[kind])
    application.refresh_from_db()
    assert application.status == "awaiting_clearances"
    with pytest.raises(Conflict, match="waits for your consent"):
        mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)
    with pytest.raises(PermissionDenied):
        clearance_services.clearance_claim(request_id=consent.pk, officer=lenders.other_officer)

    clearance_services.clearance_claim(request_id=consent.pk, officer=lenders.officer)
    decision = clearance_services.clearance_decide(
        request_id=consent.pk,
        officer=lenders.officer,
        decision=ClearanceStatus.APPROVED,
        remarks="The buyer assumes the loan.",
        findings=LenderConsent(mortgage_reference=mortgage.reference),
    )

    change = get_ledger().get_change(str(decision.change_id))
    assert change["member"] == "banco-mabuhay" and change["msp_id"] == "LenderMSP"
    application.refresh_from_db()
    assert application.status == "cleared"
    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    vehicle = Vehicle.objects.get(pk=mortgage.vehicle_id)
    assert vehicle.owner == world.other_owner
    assert mortgages.active_mortgage(vehicle) == mortgage


def test_a_transfer_of_an_unencumbered_vehicle_needs_no_lender(world, lenders):
    vehicle = registered(world)
    _, requests = sent_for_clearance(world, _transfer_filed(world, vehicle))
    assert set(requests) == {"HPG", "INSURANCE"}


def test_a_consent_naming_another_mortgage_is_refused_and_changes_nothing(world, lenders):
    mortgage = annotated(world, lenders)
    _, requests = sent_for_clearance(world, _transfer_filed(world, mortgage.vehicle))
    consent = requests["LENDER"]
    clearance_services.clearance_claim(request_id=consent.pk, officer=lenders.officer)
    entries = LedgerEntry.objects.count()

    with pytest.raises(ValidationError, match="Give the reference of the mortgage"):
        clearance_services.clearance_decide(
            request_id=consent.pk,
            officer=lenders.officer,
            decision=ClearanceStatus.APPROVED,
            remarks="",
            findings=LenderConsent(mortgage_reference="MTG-NOTTHIS1"),
        )

    assert LedgerEntry.objects.count() == entries
    assert ClearanceRequest.objects.get(pk=consent.pk).status == "in_review"


def test_the_lender_releases_and_the_vehicle_is_free_again(world, lenders):
    mortgage = annotated(world, lenders)

    mortgage = mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)

    assert mortgage.status == "released" and mortgage.released_at is not None
    release = MortgageRelease.objects.get(mortgage=mortgage)
    entry = LedgerEntry.objects.get(tx_id=release.ledger_tx_id)
    assert entry.function == "ReleaseMortgage" and entry.creator_msp == "LenderMSP"
    assert Notification.objects.filter(recipient=world.owner, event="mortgage_released").exists()
    with pytest.raises(Conflict, match="only an annotated mortgage is released"):
        mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)


# The listener and reconcile keep these rows as they keep a transfer's.


def reconcile(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", "--idle-seconds", "0", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def committed_events(*tx_ids: str) -> list[LedgerEvent]:
    """The chaincode events of these transactions, as the listener hands them on (the
    embedded ledger streams none: its entries keep each transaction's event)."""
    entries = LedgerEntry.objects.filter(tx_id__in=tx_ids).order_by("seq")
    return [
        LedgerEvent(
            block=entry.seq,
            tx_id=entry.tx_id,
            name=event["name"],
            payload=event["payload"].encode(),
        )
        for entry in entries
        for event in entry.events
    ]


def test_the_listener_confirms_the_annotation_and_the_release(world, lenders):
    mortgage = annotated(world, lenders)
    mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)
    release = MortgageRelease.objects.get(mortgage=mortgage)

    outcomes = [
        keepers.confirm(event=event)
        for event in committed_events(mortgage.ledger_tx_id, release.ledger_tx_id)
    ]

    assert [(o.confirmed, o.note) for o in outcomes] == [(True, "confirmed")] * 2
    mortgage.refresh_from_db()
    assert mortgage.ledger_confirmed_at is not None
    assert MortgageRelease.objects.get(mortgage=mortgage).ledger_confirmed_at is not None
    output, error = reconcile()
    assert error is None and output.startswith("OK:"), output


def test_reconcile_names_a_mortgage_changed_behind_the_ledgers_back(world, lenders):
    mortgage = annotated(world, lenders)
    Mortgage.objects.filter(pk=mortgage.pk).update(status="released")

    output, error = reconcile()

    assert error is not None
    assert (
        f"mortgage {mortgage.reference}: is released in the database but encumbers the "
        "vehicle on the ledger" in output
    )


def lost_consent(mortgage: Mortgage, status: str = "proposed") -> dict[str, dict]:
    """The database loses the consent's transaction after the ledger committed it; what a
    reconcile of a ledger that lists its changes (Fabric) then hands the keepers. The embedded
    ledger commits in the database's transaction, so it never has a ledger-only change."""
    Mortgage.objects.filter(pk=mortgage.pk).update(
        status=status,
        consent_digest="",
        ledger_change_id=None,
        ledger_backend="",
        ledger_tx_id="",
        ledger_block=None,
        ledger_timestamp=None,
        ledger_confirmed_at=None,
    )
    change_id = str(mortgages.annotation_change_id(mortgage.reference))
    return {change_id: get_ledger().get_change(change_id)}


def test_reconcile_restores_a_consent_the_database_lost(world, lenders):
    mortgage = annotated(world, lenders)
    ledger_only = lost_consent(mortgage)

    [repair] = repair_ledger_only(ledger_only=ledger_only, backend="embedded")

    assert repair.repaired, repair.detail
    mortgage.refresh_from_db()
    assert mortgage.status == "annotated" and mortgage.repaired_from_ledger_at is not None
    output, error = reconcile()
    assert error is None and output.startswith("OK:"), output


def test_reconcile_does_not_restore_a_consent_onto_a_withdrawn_proposal(world, lenders):
    mortgage = annotated(world, lenders)
    ledger_only = lost_consent(mortgage, status="withdrawn")

    [repair] = repair_ledger_only(ledger_only=ledger_only, backend="embedded")

    assert not repair.repaired
    assert "is withdrawn in the database, not awaiting consent" in repair.detail
    assert Mortgage.objects.get(pk=mortgage.pk).status == "withdrawn"


def test_a_release_the_database_lost_is_restored_from_the_ledger(world, lenders):
    mortgage = annotated(world, lenders)
    mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)
    release = MortgageRelease.objects.get(mortgage=mortgage)
    change_id = str(release.ledger_change_id)
    release.delete()
    Mortgage.objects.filter(pk=mortgage.pk).update(status="annotated", released_at=None)

    [repair] = repair_ledger_only(
        ledger_only={change_id: get_ledger().get_change(change_id)}, backend="embedded"
    )

    assert repair.repaired, repair.detail
    assert Mortgage.objects.get(pk=mortgage.pk).status == "released"
    assert MortgageRelease.objects.get(mortgage=mortgage).repaired_from_ledger_at is not None


# Through the doors people and integrators use: the pages and /api/v1/mortgages/.


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_proposes_once_per_idempotency_key_and_the_owner_consents(world, lenders):
    vehicle = registered(world)
    payload = {"vehicle": vehicle.plate_number or vehicle.vin, "owner_email": world.owner.email}

    first = api(lenders.officer).post(
        "/api/v1/mortgages/", payload, format="json", HTTP_IDEMPOTENCY_KEY="propose-1"
    )
    again = api(lenders.officer).post(
        "/api/v1/mortgages/", payload, format="json", HTTP_IDEMPOTENCY_KEY="propose-1"
    )

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json() == first.json()
    assert Mortgage.objects.filter(vehicle=vehicle).count() == 1
    reference = first.json()["reference"]
    consent = api(world.owner).post(
        f"/api/v1/mortgages/{reference}/consent/", {"answer": "accept"}, format="json"
    )
    assert consent.status_code == 200, consent.content
    assert consent.json()["status"] == "annotated" and consent.json()["lender"] == "banco-mabuhay"
    assert [m["reference"] for m in api(lenders.officer).get("/api/v1/mortgages/").json()] == [
        reference
    ]
    assert api(lenders.other_officer).get("/api/v1/mortgages/").json() == []


@pytest.mark.parametrize(
    ("payload", "code", "says"),
    [
        ({"vehicle": "NAA 9999", "owner_email": "x@example.ph"}, 422, "No registered vehicle"),
        ({"vehicle": "NAA 9999", "owner_email": "not-an-email"}, 400, "valid email"),
        ({"owner_email": "x@example.ph"}, 400, "required"),
    ],
)
def test_bad_proposals_get_a_problem_and_save_nothing(world, lenders, payload, code, says):
    before = rows()

    response = api(lenders.officer).post("/api/v1/mortgages/", payload, format="json")

    assert response.status_code == code, response.content
    assert says in response.content.decode()
    assert rows() == before


def test_the_api_refuses_another_lenders_release_and_a_strangers_consent(world, lenders):
    mortgage = proposed(world, lenders)
    stranger = api(world.other_owner).post(
        f"/api/v1/mortgages/{mortgage.reference}/consent/", {"answer": "accept"}, format="json"
    )
    assert stranger.status_code == 404  # they cannot see it at all
    api(world.owner).post(
        f"/api/v1/mortgages/{mortgage.reference}/consent/", {"answer": "accept"}, format="json"
    )
    before = rows()

    other = api(lenders.other_officer).post(f"/api/v1/mortgages/{mortgage.reference}/release/")
    again = api(world.owner).post(
        f"/api/v1/mortgages/{mortgage.reference}/consent/", {"answer": "decline"}, format="json"
    )
    released = api(lenders.officer).post(f"/api/v1/mortgages/{mortgage.reference}/release/")

    assert other.status_code == 404 and again.status_code == 409
    assert "annotated" in again.json()["detail"]
    assert rows() != before and released.status_code == 200
    assert released.json()["status"] == "released" and released.json()["release_tx_id"]


def test_lender_officer_starts_on_the_mortgages_page_and_proposes_there(world, lenders, client):
    vehicle = registered(world)
    client.force_login(lenders.officer)

    home = client.get("/")
    page = client.post(
        reverse("mortgages"), {"vehicle": vehicle.vin, "owner_email": world.other_owner.email}
    )

    assert home.status_code == 302 and home["Location"] == reverse("mortgages")
    assert page.status_code == 422 and mortgages.NEUTRAL_REFUSAL in page.content.decode()
    assert not Mortgage.objects.exists()
    done = client.post(
        reverse("mortgages"), {"vehicle": vehicle.vin, "owner_email": world.owner.email}
    )
    mortgage = Mortgage.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("mortgage-detail", args=[mortgage.reference])


def test_the_owner_consents_on_the_mortgage_page(world, lenders, client):
    mortgage = proposed(world, lenders)
    client.force_login(world.owner)

    page = client.get(reverse("mortgage-detail", args=[mortgage.reference])).content.decode()
    answered = client.post(
        reverse("mortgage-answer", args=[mortgage.reference]), {"answer": "accept"}
    )

    assert "Send my answer" in page
    assert answered.status_code == 302
    assert Mortgage.objects.get(pk=mortgage.pk).status == "annotated"
    client.force_login(world.other_owner)
    assert client.get(reverse("mortgage-detail", args=[mortgage.reference])).status_code == 404


def test_the_lender_decides_the_consent_in_the_clearance_pages(world, lenders, client):
    mortgage = annotated(world, lenders)
    _, requests = sent_for_clearance(world, _transfer_filed(world, mortgage.vehicle))
    consent = requests["LENDER"]
    client.force_login(lenders.officer)

    queue = client.get(reverse("clearance-queue")).content.decode()
    client.post(reverse("clearance-claim", args=[consent.pk]))
    page = client.get(reverse("clearance-detail", args=[consent.pk])).content.decode()
    decided = client.post(
        reverse("clearance-decide", args=[consent.pk]),
        {"decision": "approved", "remarks": "", "mortgage_reference": mortgage.reference},
    )

    assert consent.application.reference in queue
    assert mortgage.reference in page  # the form starts with the mortgage it consents for
    assert decided.status_code == 302, decided.content.decode()[-2000:]
    assert ClearanceRequest.objects.get(pk=consent.pk).status == "approved"
    client.force_login(lenders.other_officer)
    assert client.get(reverse("clearance-detail", args=[consent.pk])).status_code == 404
