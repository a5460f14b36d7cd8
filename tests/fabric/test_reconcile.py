"""reconcile_ledger lists every difference between the Fabric ledger and the database."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chaincode.rules import ClearanceStatus
from clearance.models import ClearanceStatusChange
from ledger import get_ledger
from ledger.base import ClearanceChange, actor_pseudonym
from tests.conftest import claim_and_approve, sent_for_clearance


def reconcile() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", "--idle-seconds", "0.5", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_reconcile_finds_nothing_when_ledger_and_database_agree(world, fabric):
    _, requests = sent_for_clearance(world)
    claim_and_approve(world, requests["HPG"])

    output, error = reconcile()

    assert error is None, output
    assert output.startswith("OK:")


def test_reconcile_lists_a_row_the_ledger_lacks_and_a_change_the_database_lacks(world, fabric):
    _, requests = sent_for_clearance(world)
    approved = claim_and_approve(world, requests["HPG"])
    # Planted: a history row whose change id the ledger never saw ...
    original_change_id = str(approved.change_id)
    planted_id = uuid.uuid4()
    ClearanceStatusChange.objects.filter(pk=approved.pk).update(change_id=planted_id)
    # ... and a change written to the ledger behind the database's back.
    emission = requests["EMISSION"]
    behind_the_back = str(uuid.uuid4())
    get_ledger().update_clearance_status(
        ClearanceChange(
            clearance_id=str(emission.public_id),
            vin=emission.application.vehicle.vin,
            kind="EMISSION",
            from_status=ClearanceStatus.PENDING,
            to_status=ClearanceStatus.IN_REVIEW,
            change_id=behind_the_back,
            actor_id=actor_pseudonym(world.emission_officer.pk),
            remarks_digest="",
            signer_msp="EmissionMSP",
        )
    )

    output, error = reconcile()

    assert error is not None and error.returncode == 1
    differences = [line for line in output.splitlines() if line.startswith("DIFFERENCE")]
    # The change behind the back also left the request's status behind the ledger's.
    assert len(differences) == 4, output
    assert any(
        f"change {planted_id}" in line and "has no change on the ledger" in line
        for line in differences
    )
    assert any(
        f"ledger change {original_change_id}" in line and "no history row" in line
        for line in differences
    )
    assert any(
        f"ledger change {behind_the_back}" in line and "no history row" in line
        for line in differences
    )
    assert any(
        f"clearance request {emission.pk}" in line
        and "is pending in the database but in_review on the ledger" in line
        for line in differences
    )


def test_reconcile_says_so_when_the_peer_is_unreachable(world, fabric):
    fabric.stop()

    with pytest.raises(CommandError) as error:
        call_command("reconcile_ledger", "--idle-seconds", "0.5")

    assert error.value.returncode == 2
