"""Each ledger function is declared once; backends submit any declared record the same way,
and the app that keeps a function's rows confirms and checks them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chaincode.contract import CLEARANCE_EVENT
from clearance.ledger_rows import ClearanceRows
from ledger import keepers
from ledger.base import FUNCTIONS, ClearanceChange, Ledger, VehicleRegistration, function_for
from ledger.events import LedgerEvent
from registry.ledger_rows import (
    DeregistrationRows,
    DocumentRows,
    HoldLiftRows,
    HoldRows,
    MortgageReleaseRows,
    MortgageRows,
    OriginRows,
    RegistrationRows,
    TransferRows,
)


class RecordingLedger(Ledger):
    """A backend that keeps what it is asked to submit (test code: no ledger behind it)."""

    name = "recording"

    def __init__(self) -> None:
        self.submitted: list[tuple[str, list[str], str]] = []

    def _submit(self, function, args, msp_id, identity=""):
        self.submitted.append((function, args, msp_id))

    def history(self, vin):
        return []

    def get_change(self, change_id):
        return None

    def verify_receipt(self, *, tx_id, change_id):
        raise NotImplementedError

    def health(self):
        raise NotImplementedError


def test_a_record_is_submitted_with_its_declared_function_and_signer():
    ledger = RecordingLedger()
    registration = VehicleRegistration(
        vin="MR2B29F30K1234567",
        record_digest="ab" * 32,
        change_id="c-1",
        owner="cd" * 32,
        signer_msp="LTOMSP",
    )

    ledger.register_vehicle(registration)

    assert ledger.submitted == [("RegisterVehicle", registration.args(), "LTOMSP")]


def test_a_record_no_function_declares_is_refused():
    @dataclass(frozen=True)
    class Undeclared:
        change_id: str = "c"
        signer_msp: str = "LTOMSP"

        def args(self) -> list[str]:
            return []

    with pytest.raises(TypeError, match="Undeclared is no declared ledger record"):
        function_for(Undeclared())


def test_every_declared_function_has_the_keeper_of_its_rows():
    assert [type(keeper) for keeper in keepers.keepers()] == [
        ClearanceRows,
        RegistrationRows,
        DocumentRows,
        TransferRows,
        OriginRows,
        DeregistrationRows,
        HoldRows,
        HoldLiftRows,
        MortgageRows,
        MortgageReleaseRows,
    ]
    assert [keeper.function for keeper in keepers.keepers()] == list(FUNCTIONS)
    assert function_for(ClearanceChange(*["x"] * 9)).event == CLEARANCE_EVENT


def test_an_event_no_declared_function_emits_is_ignored():
    outcome = keepers.confirm(event=LedgerEvent(block=7, tx_id="t", name="Other", payload=b"{}"))

    assert not outcome.confirmed and outcome.note == "ignored event Other"
