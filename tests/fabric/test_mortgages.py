"""Chattel mortgages through the services on the Fabric test peer: the owner's consent is
annotated signed by the lender's own enrolled identity, the other lender cannot release it,
the listener confirms the annotation and the release, and reconcile finds nothing amiss."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from kernel.errors import PermissionDenied
from ledger import get_ledger, keepers
from ledger.fabric.listener import follow
from registry import mortgages
from registry.models import MortgageRelease
from tests.fabric.peer import write_identity
from tests.fabric.test_transfer import reconcile
from tests.registry.test_mortgages import annotated, lenders  # noqa: F401  (fixture)
from tests.transfers import registered


def enrol(pki, code: str):  # type: ignore[no-untyped-def]
    """Put a lender's identity where network.sh enrolLender writes it."""
    identity = pki.enrol_lender(code)
    write_identity(Path(settings.FABRIC_IDENTITIES_DIR) / "LenderMSP" / code, identity)
    return identity


def test_a_mortgage_is_annotated_and_released_by_its_own_lender_and_confirmed(
    world,
    fabric,
    pki,
    lenders,  # noqa: F811  (fixture)
):
    bank = enrol(pki, "banco-mabuhay")
    enrol(pki, "asenso-finance")
    vehicle = registered(world)

    mortgage = annotated(world, lenders, vehicle)

    [tx] = [tx for tx in fabric.committed() if tx.tx_id == mortgage.ledger_tx_id]
    assert tx.creator_msp == "LenderMSP" and tx.creator_certificate == bank.certificate
    assert get_ledger().world_state("GetEncumbrance", vehicle.vin)["lender"] == "banco-mabuhay"
    with pytest.raises(PermissionDenied):
        mortgages.mortgage_release(actor=lenders.other_officer, reference=mortgage.reference)
    released = mortgages.mortgage_release(actor=lenders.officer, reference=mortgage.reference)
    assert released.status == "released"
    assert get_ledger().world_state("GetEncumbrance", vehicle.vin) is None

    outcomes = list(follow(get_ledger(), handle=keepers.confirm, idle_seconds=0.5))
    release = MortgageRelease.objects.get(mortgage=mortgage)
    confirmed = {outcome.tx_id for outcome in outcomes if outcome.confirmed}
    assert {mortgage.ledger_tx_id, release.ledger_tx_id} <= confirmed
    mortgage.refresh_from_db()
    release.refresh_from_db()
    assert mortgage.ledger_confirmed_at is not None and release.ledger_confirmed_at is not None
    output, error = reconcile()
    assert error is None, output
