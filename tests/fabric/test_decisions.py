"""Clearance decisions through the services with LEDGER_BACKEND=fabric, on the test peer."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from chaincode.rules import ClearanceStatus
from ledger import get_ledger
from registry import services as registry_services
from registry.document_services import document_check, document_upload
from tests.conftest import claim_and_approve, sent_for_clearance
from tests.paying import pay_in_full


def test_a_decision_is_a_fabric_transaction_recorded_with_its_block(world, fabric):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]

    change = claim_and_approve(world, request)

    assert change.ledger_backend == "fabric"
    committed = {tx.tx_id: tx for tx in fabric.committed()}
    assert change.ledger_tx_id in committed
    assert change.ledger_block == committed[change.ledger_tx_id].number
    assert committed[change.ledger_tx_id].creator_msp == "HPGMSP"
    recorded = json.loads(fabric.state_json(f"change:{change.change_id}"))
    assert recorded["status"] == ClearanceStatus.APPROVED
    assert recorded["msp_id"] == "HPGMSP"
    assert recorded["tx_id"] == change.ledger_tx_id
    clearance = json.loads(fabric.state_json(f"clearance:{request.public_id}"))
    assert clearance["status"] == ClearanceStatus.APPROVED
    check = get_ledger().verify_receipt(tx_id=change.ledger_tx_id, change_id=str(change.change_id))
    assert check.ok, check.detail
    assert get_ledger().health().ok


def test_each_organisations_change_is_signed_by_that_organisation(world, fabric):
    _, requests = sent_for_clearance(world)

    for request in requests.values():
        claim_and_approve(world, request)

    signers = {tx.creator_msp for tx in fabric.committed()}
    assert signers == {"LTOMSP", "HPGMSP", "InsuranceMSP", "EmissionMSP"}


def test_a_registration_is_on_the_ledger_with_the_vehicles_key_history(world, fabric):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)

    pay_in_full(application)
    change = registry_services.registration_approve(
        application_id=application.pk, actor=world.lto_admin
    )

    assert change.ledger_backend == "fabric" and change.ledger_block is not None
    history = get_ledger().history(application.vehicle.vin)
    assert [version["tx_id"] for version in history] == [change.ledger_tx_id]
    assert history[0]["value"]["registered_by"] == "LTOMSP"


def test_an_officers_document_is_anchored_on_fabric_and_checked_on_read(
    world, fabric, document_root
):
    application, requests = sent_for_clearance(world)
    document = document_upload(
        application_id=application.pk,
        uploader=world.hpg_officer,
        doc_type="hpg_clearance",
        upload=SimpleUploadedFile("hpg.pdf", b"%PDF-1.4 macro-etching matches"),
        clearance_request_id=requests["HPG"].pk,
    )

    assert document.ledger_backend == "fabric"
    committed = {tx.tx_id: tx for tx in fabric.committed()}
    assert committed[document.ledger_tx_id].creator_msp == "HPGMSP"
    anchored = json.loads(fabric.state_json(f"document:{document.public_id}"))
    assert anchored["sha256"] == document.sha256 and anchored["vin"] == application.vehicle.vin
    assert document_check(document).check.ok

    (document_root / document.location).write_bytes(b"%PDF-1.4 macro-etching altered")
    assert not document_check(document).check.ok
