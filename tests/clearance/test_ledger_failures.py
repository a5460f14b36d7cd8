"""When the ledger fails, nothing is saved and the user is told whether to retry."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import serializers

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from kernel.errors import describe
from ledger import adapter
from ledger.base import Ledger
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from tests.conftest import findings_for, sent_for_clearance


def snapshot() -> str:
    """Every row of every table the workflow writes, serialised for an exact comparison."""
    labels = ["registry", "clearance", "ledger", "notifications"]
    models = [model for label in labels for model in apps.get_app_config(label).get_models()]
    return serializers.serialize(
        "json", [row for model in models for row in model.objects.order_by("pk")]
    )


class FailingLedger(Ledger):
    """Stands in for a ledger that fails at the adapter boundary: the failure we inject."""

    name = "failing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def _submit(self, function, args, msp_id, identity=""):
        raise self.error

    def update_clearance_status(self, change):
        raise self.error

    def register_vehicle(self, registration):
        raise self.error

    def record_document(self, anchor):
        raise self.error

    def history(self, vin):
        raise self.error

    def get_change(self, change_id):
        raise self.error

    def verify_receipt(self, *, tx_id, change_id):
        raise self.error

    def health(self):
        raise self.error


@pytest.fixture
def ledger_fails(monkeypatch):
    def install(error: Exception) -> None:
        monkeypatch.setattr(adapter, "configured_ledger", lambda: FailingLedger(error))

    return install


@pytest.fixture
def claimed(world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    return request


def decide(world, request):
    return clearance_services.clearance_decide(
        request_id=request.pk,
        officer=world.hpg_officer,
        decision=ClearanceStatus.APPROVED,
        remarks="Numbers match.",
        findings=findings_for(request),
    )


def test_an_unreachable_ledger_leaves_the_database_exactly_as_before(world, claimed, ledger_fails):
    before = snapshot()
    ledger_fails(LedgerUnavailable())

    with pytest.raises(LedgerUnavailable) as failure:
        decide(world, claimed)

    assert snapshot() == before
    info = describe(failure.value)
    assert (info.status, info.code, info.retryable) == (503, "ledger_unavailable", True)
    assert "try again" in info.message


def test_a_chaincode_refusal_saves_nothing_and_shows_its_reason(world, claimed, ledger_fails):
    before = snapshot()
    ledger_fails(LedgerRejected("Clearance 42 is approved on the ledger, not in_review."))

    with pytest.raises(LedgerRejected) as refusal:
        decide(world, claimed)

    assert snapshot() == before
    info = describe(refusal.value)
    assert (info.status, info.retryable) == (422, False)
    assert info.message == "Clearance 42 is approved on the ledger, not in_review."


def test_the_decision_goes_through_once_the_ledger_is_back(
    world, claimed, ledger_fails, monkeypatch
):
    ledger_fails(LedgerUnavailable())
    with pytest.raises(LedgerUnavailable):
        decide(world, claimed)
    monkeypatch.undo()

    change = decide(world, claimed)
    claimed.refresh_from_db()
    assert claimed.status == ClearanceStatus.APPROVED and change.ledger_tx_id
