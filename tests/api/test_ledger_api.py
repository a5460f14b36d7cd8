"""Ledger receipts, a vehicle's ledger history, and Merkle inclusion proofs over the API."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger import adapter, log, merkle
from ledger.fabric.backend import FabricLedger
from ledger.models import LedgerCheckpoint, LedgerEntry
from registry import services as registry_services
from registry.document_services import document_upload
from tests.api.conftest import Office, client_for
from tests.api.test_problems import assert_problem
from tests.conftest import claim_and_approve
from tests.paying import pay_in_full


@pytest.fixture(autouse=True)
def _fresh_receipt_checks():
    # Verified receipts are cached for a minute; each test checks the ledger itself.
    cache.clear()
    yield
    cache.clear()


def _hpg_change(office: Office):
    return office.requests["HPG"].status_changes.get()


def test_a_receipt_is_found_by_its_transaction_and_verified_on_the_ledger(office):
    change = _hpg_change(office)

    response = client_for(office, "owner").get(f"/api/v1/ledger/receipts/{change.ledger_tx_id}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verified"] is True
    assert (body["tx_id"], body["change_id"], body["block"]) == (
        change.ledger_tx_id,
        str(change.change_id),
        change.ledger_block,
    )
    assert (body["from_status"], body["to_status"]) == ("", "pending")
    assert body["subject"] == {
        "type": "clearance",
        "application": office.application.reference,
        "vin": office.application.vehicle.vin,
        "clearance": str(office.requests["HPG"].public_id),
        "kind": "HPG",
        "organisation": "lto",  # the LTO opened the request
        "document": None,
        "document_type": None,
        "sha256": None,
    }


def test_an_altered_ledger_entry_no_longer_verifies(office):
    change = _hpg_change(office)
    LedgerEntry.objects.filter(tx_id=change.ledger_tx_id).update(creator_msp="MalloryMSP")

    response = client_for(office, "lto_admin").get(
        f"/api/v1/ledger/receipts/{change.ledger_tx_id}/"
    )

    assert response.status_code == 200
    assert response.json()["verified"] is False
    assert "does not match its hash" in response.json()["detail"]


def test_an_unknown_transaction_is_404(office):
    response = client_for(office, "lto_admin").get("/api/v1/ledger/receipts/" + "0" * 64 + "/")

    assert_problem(response, 404, "not_found")


def test_the_inclusion_proof_leads_from_the_entry_to_the_signed_root(office):
    change = _hpg_change(office)

    response = client_for(office, "hpg_read_key").get(
        f"/api/v1/ledger/receipts/{change.ledger_tx_id}/proof/"
    )

    assert response.status_code == 200, response.content
    proof = response.json()
    entry = LedgerEntry.objects.get(tx_id=change.ledger_tx_id)
    assert (proof["seq"], proof["index"]) == (entry.seq, entry.position)
    assert proof["tree_size"] == LedgerEntry.objects.count()
    assert merkle.verify_inclusion(
        proof["index"],
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(node) for node in proof["path"]],
        bytes.fromhex(proof["tree_root"]),
    )
    public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(proof["public_key"]))
    public_key.verify(bytes.fromhex(proof["tree_signature"]), proof["signed_message"].encode())
    root = base64.b64encode(bytes.fromhex(proof["tree_root"])).decode()
    origin = settings.LEDGER_LOG_ORIGIN
    assert proof["signed_message"] == f"{origin}\n{proof['tree_size']}\n{root}\n"
    assert proof["checkpoint"].startswith(proof["signed_message"] + "\n\u2014 ")


def test_a_proof_for_an_earlier_tree_head_is_given_on_request(office):
    change = _hpg_change(office)
    size = LedgerEntry.objects.get(tx_id=change.ledger_tx_id).position + 1

    response = client_for(office, "lto_admin").get(
        f"/api/v1/ledger/receipts/{change.ledger_tx_id}/proof/", {"tree_size": size}
    )

    assert response.status_code == 200
    assert response.json()["tree_size"] == size
    assert response.json()["tree_root"] == LedgerCheckpoint.objects.get(size=size).root


@pytest.mark.parametrize(
    ("tree_size", "status"),
    # Not a size at all (the schema says so): 400. A size no tree of this ledger can answer
    # for (too small to hold the entry, or larger than the ledger): 422.
    [("0", 400), ("many", 400), ("1", 422), ("100000", 422)],
)
def test_a_tree_size_that_cannot_hold_the_entry_is_refused_naming_it(office, tree_size, status):
    change = _hpg_change(office)
    assert LedgerEntry.objects.get(tx_id=change.ledger_tx_id).position > 0

    response = client_for(office, "lto_admin").get(
        f"/api/v1/ledger/receipts/{change.ledger_tx_id}/proof/", {"tree_size": tree_size}
    )

    body = assert_problem(response, status, "invalid")
    assert set(body["errors"]) == {"tree_size"}


def test_the_fabric_backend_answers_a_clear_problem_instead_of_a_proof(office, monkeypatch):
    # No Fabric peer runs here; the proof is refused before the gateway is ever called.
    monkeypatch.setattr(adapter, "configured_ledger", lambda: FabricLedger(gateway=object()))
    change = _hpg_change(office)

    response = client_for(office, "lto_admin").get(
        f"/api/v1/ledger/receipts/{change.ledger_tx_id}/proof/"
    )

    body = assert_problem(response, 422, "inclusion_proof_unavailable")
    assert "/api/v1/ledger/receipts/" in body["detail"]


def test_a_vehicles_history_shows_its_changes_and_after_registration_its_ledger_record(office):
    world = office.world
    application = office.application
    for request in office.requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    vin = application.vehicle.vin

    response = client_for(office, "owner").get(f"/api/v1/ledger/vehicles/{vin.lower()}/history/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["vin"] == vin
    clearance_rows = [row for row in body["changes"] if row["subject"]["type"] == "clearance"]
    assert len(clearance_rows) == 9  # three kinds: pending, in review, approved
    assert [row["to_status"] for row in body["changes"]][-1] == "approved"
    registration = body["changes"][-1]
    assert registration["subject"]["type"] == "registration"
    [record] = body["ledger_record"]
    assert record["tx_id"] == registration["tx_id"]
    assert record["value"]["vin"] == vin
    receipt = client_for(office, "lto_admin").get(
        f"/api/v1/ledger/receipts/{registration['tx_id']}/"
    )
    assert receipt.json()["verified"] is True
    assert receipt.json()["subject"]["type"] == "registration"


def test_an_organisation_sees_only_its_own_clearances_in_a_vehicles_history(office):
    vin = office.application.vehicle.vin

    response = client_for(office, "insurer_officer").get(f"/api/v1/ledger/vehicles/{vin}/history/")

    changes = response.json()["changes"]
    kinds = {row["subject"]["kind"] for row in changes if row["subject"]["type"] == "clearance"}
    assert kinds == {"INSURANCE"}
    assert response.json()["ledger_record"] == []


def test_an_owner_sees_the_history_of_a_vehicle_with_no_application_yet(office):
    from tests.factories import VehicleFactory

    vehicle = VehicleFactory(owner=office.world.owner)

    mine = client_for(office, "owner").get(f"/api/v1/ledger/vehicles/{vehicle.vin}/history/")
    theirs = client_for(office, "other_owner").get(
        f"/api/v1/ledger/vehicles/{vehicle.vin}/history/"
    )

    assert mine.status_code == 200
    assert mine.json() == {"vin": vehicle.vin, "changes": [], "ledger_record": []}
    assert_problem(theirs, 404, "not_found")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/ledger/receipts/not-a-tx%00id/", "/api/v1/ledger/vehicles/NOT-A-VIN%00/history/"],
)
def test_a_malformed_transaction_id_or_vin_names_nothing(office, path):
    assert_problem(client_for(office, "lto_admin").get(path), 404, "not_found")


def _evidence(office: Office, uploader: str, kind: str | None = None):
    return document_upload(
        application_id=office.application.pk,
        uploader=getattr(office.world, uploader),
        doc_type="hpg_clearance" if kind else "sales_invoice",
        upload=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 " + uploader.encode()),
        clearance_request_id=office.requests[kind].pk if kind else None,
    )


def test_a_document_anchor_has_a_verified_receipt_naming_its_digest(office):
    document = _evidence(office, "hpg_officer", "HPG")

    response = client_for(office, "hpg_read_key").get(
        f"/api/v1/ledger/receipts/{document.ledger_tx_id}/"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verified"] is True and body["to_status"] == "anchored"
    assert body["change_id"] == str(document.ledger_change_id)
    assert body["subject"] == {
        "type": "document",
        "application": office.application.reference,
        "vin": office.application.vehicle.vin,
        "clearance": str(office.requests["HPG"].public_id),
        "kind": "HPG",
        "organisation": office.world.hpg.code,
        "document": str(document.public_id),
        "document_type": "hpg_clearance",
        "sha256": document.sha256,
    }
    proof = client_for(office, "owner").get(
        f"/api/v1/ledger/receipts/{document.ledger_tx_id}/proof/"
    )
    assert proof.status_code == 200 and proof.json()["tx_id"] == document.ledger_tx_id


def test_document_anchors_are_in_the_vehicles_history_for_those_who_may_see_them(office):
    # The papers the application was filed with are the application's own too.
    filed = set(office.application.documents.values_list("ledger_tx_id", flat=True))
    invoice = _evidence(office, "owner")
    hpg_evidence = _evidence(office, "hpg_officer", "HPG")
    vin = office.application.vehicle.vin

    def anchors(caller: str) -> set[str]:
        body = client_for(office, caller).get(f"/api/v1/ledger/vehicles/{vin}/history/").json()
        return {row["tx_id"] for row in body["changes"] if row["subject"]["type"] == "document"}

    assert anchors("owner") == {*filed, invoice.ledger_tx_id, hpg_evidence.ledger_tx_id}
    assert anchors("hpg_read_key") == {*filed, invoice.ledger_tx_id, hpg_evidence.ledger_tx_id}
    # Another organisation sees the application's own documents, not HPG's evidence.
    assert anchors("insurer_officer") == {*filed, invoice.ledger_tx_id}
    theirs = client_for(office, "insurer_officer").get(
        f"/api/v1/ledger/receipts/{hpg_evidence.ledger_tx_id}/"
    )
    assert_problem(theirs, 404, "not_found")
    assert_problem(
        client_for(office, "other_owner").get(f"/api/v1/ledger/receipts/{invoice.ledger_tx_id}/"),
        404,
        "not_found",
    )


def test_a_receipt_says_whether_its_entry_is_in_the_log_yet(office, settings):
    included = client_for(office, "owner").get(
        f"/api/v1/ledger/receipts/{_hpg_change(office).ledger_tx_id}/"
    )
    assert (included.json()["inclusion"], included.json()["verified"]) == ("included", True)
    assert included.json()["checkpoint_size"] == LedgerCheckpoint.objects.latest("size").size

    settings.LEDGER_SEQUENCER = "sequencer"
    claim_and_approve(office.world, office.requests["HPG"])
    decided = office.requests["HPG"].status_changes.latest("created_at")
    url = f"/api/v1/ledger/receipts/{decided.ledger_tx_id}/"
    awaiting = client_for(office, "owner").get(url).json()
    assert (awaiting["inclusion"], awaiting["verified"], awaiting["checkpoint_size"]) == (
        "awaiting",
        True,
        None,
    )
    assert "awaiting inclusion" in awaiting["detail"]
    leaf, _, _ = log.open_promise(awaiting["promise"])
    assert (
        leaf
        == awaiting["leaf_hash"]
        == LedgerEntry.objects.get(tx_id=decided.ledger_tx_id).leaf_hash
    )
    proof = client_for(office, "hpg_read_key").get(url + "proof/")
    assert_problem(proof, 409, "inclusion_pending")

    log.integrate()
    assert client_for(office, "owner").get(url).json()["inclusion"] == "included"
    assert client_for(office, "hpg_read_key").get(url + "proof/").status_code == 200
