"""The ledger adapter's interface: what the app asks of any ledger, and what it gets back."""

from __future__ import annotations

import abc
import hashlib
import hmac
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.conf import settings

from chaincode.contract import (
    CLEARANCE_EVENT,
    DOCUMENT_EVENT,
    HOLD_LIFTED_EVENT,
    HOLD_PLACED_EVENT,
    MORTGAGE_ANNOTATED_EVENT,
    MORTGAGE_RELEASED_EVENT,
    ORIGIN_EVENT,
    TRANSFER_EVENT,
    VEHICLE_DEREGISTERED_EVENT,
    VEHICLE_EVENT,
)
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from ledger.locks import hold_change

if TYPE_CHECKING:
    from fabric_protos.gateway.gateway_pb2 import ChaincodeEventsResponse

    from ledger.verify import Replay


@dataclass(frozen=True)
class Receipt:
    """Proof that a write is on the ledger: where it landed and how to check it."""

    backend: str
    tx_id: str
    block: int | None
    timestamp: datetime
    proof: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False


@dataclass(frozen=True)
class ClearanceChange:
    """One clearance status change, as the chaincode's UpdateClearanceStatus takes it."""

    clearance_id: str
    vin: str
    kind: str
    from_status: str
    to_status: str
    change_id: str
    actor_id: str
    remarks_digest: str
    signer_msp: str
    # A lender's consent is signed by that lender's own identity (its code); others by the MSP.
    signer_identity: str = ""

    def args(self) -> list[str]:
        return [
            self.clearance_id,
            self.vin,
            self.kind,
            self.from_status,
            self.to_status,
            self.change_id,
            self.actor_id,
            self.remarks_digest,
        ]

    def recorded(self) -> dict[str, str]:
        """What the chaincode keeps of this change (GetChange answers it), to check against."""
        return {
            "clearance_id": self.clearance_id,
            "vin": self.vin,
            "kind": self.kind,
            "from_status": self.from_status,
            "status": self.to_status,
            "msp_id": self.signer_msp,
            "actor_id": self.actor_id,
            "remarks_digest": self.remarks_digest,
        }


@dataclass(frozen=True)
class VehicleRegistration:
    """A registered vehicle, as the chaincode's RegisterVehicle takes it, with its owner's
    pseudonym for this vehicle (``owner_pseudonym``)."""

    vin: str
    record_digest: str
    change_id: str
    owner: str
    signer_msp: str

    def args(self) -> list[str]:
        return [self.vin, self.record_digest, self.change_id, self.owner]


@dataclass(frozen=True)
class OwnershipTransfer:
    """A change of a vehicle's owner, as the chaincode's TransferOwnership takes it: the
    seller's and the buyer's pseudonyms for this vehicle, nothing that says who they are."""

    vin: str
    from_owner: str
    to_owner: str
    change_id: str
    signer_msp: str

    def args(self) -> list[str]:
        return [self.vin, self.from_owner, self.to_owner, self.change_id]

    def recorded(self) -> dict[str, str]:
        """What the chaincode keeps of the transfer (GetChange answers it), to check against."""
        return {"vin": self.vin, "from_owner": self.from_owner, "to_owner": self.to_owner}


@dataclass(frozen=True)
class VehicleOrigin:
    """A new vehicle's origin record, as the chaincode's RecordOrigin takes it: the digest of
    what the dealer declared (numbers, make, model, CSR, invoice), signed by that dealer.

    ``signer_identity`` is the dealer's code: which of the dealers' MSP's identities signs,
    the one whose certificate carries it as its ``talaan.dealer`` attribute.
    """

    vin: str
    record_digest: str
    change_id: str
    signer_msp: str
    signer_identity: str

    def args(self) -> list[str]:
        return [self.vin, self.record_digest, self.change_id]

    def recorded(self) -> dict[str, str]:
        """What the chaincode keeps of the origin (GetChange answers it), to check against."""
        return {
            "vin": self.vin,
            "record_digest": self.record_digest,
            "dealer": self.signer_identity,
            "msp_id": self.signer_msp,
        }


@dataclass(frozen=True)
class VehicleDeregistration:
    """A vehicle taken off the register for good, as the chaincode's DeregisterVehicle takes
    it: the reason's code and the evidence's SHA-256, nothing that says who owned it."""

    vin: str
    reason: str
    evidence_digest: str
    change_id: str
    signer_msp: str

    def args(self) -> list[str]:
        return [self.vin, self.reason, self.evidence_digest, self.change_id]

    def recorded(self) -> dict[str, str]:
        """What the chaincode keeps of the deregistration (GetChange answers it), to check
        against."""
        return {"vin": self.vin, "reason": self.reason, "evidence_digest": self.evidence_digest}


@dataclass(frozen=True)
class HoldPlacement:
    """A hold on a vehicle, as the chaincode's PlaceHold takes it: the reason's code and the
    evidence's SHA-256, signed by the organisation the reason belongs to."""

    hold_id: str
    vin: str
    reason: str
    evidence_digest: str
    change_id: str
    signer_msp: str

    def args(self) -> list[str]:
        return [self.hold_id, self.vin, self.reason, self.evidence_digest, self.change_id]

    def recorded(self) -> dict[str, str]:
        return {
            "hold_id": self.hold_id,
            "vin": self.vin,
            "reason": self.reason,
            "evidence_digest": self.evidence_digest,
            "msp_id": self.signer_msp,
        }


@dataclass(frozen=True)
class HoldLifting:
    """The lifting of a hold (chaincode LiftHold), signed by the organisation that placed it."""

    hold_id: str
    evidence_digest: str
    change_id: str
    signer_msp: str

    def args(self) -> list[str]:
        return [self.hold_id, self.evidence_digest, self.change_id]

    def recorded(self) -> dict[str, str]:
        return {
            "hold_id": self.hold_id,
            "evidence_digest": self.evidence_digest,
            "msp_id": self.signer_msp,
        }


@dataclass(frozen=True)
class MortgageAnnotation:
    """A chattel mortgage on a vehicle (chaincode AnnotateMortgage): the digest of the owner's
    consent, signed by the lender (``signer_identity``, its code); no amounts, no names."""

    mortgage_id: str
    vin: str
    consent_digest: str
    change_id: str
    signer_msp: str
    signer_identity: str

    def args(self) -> list[str]:
        return [self.mortgage_id, self.vin, self.consent_digest, self.change_id]

    def recorded(self) -> dict[str, str]:
        return {
            "mortgage_id": self.mortgage_id,
            "vin": self.vin,
            "lender": self.signer_identity,
            "consent_digest": self.consent_digest,
        }


@dataclass(frozen=True)
class MortgageRelease:
    """The release of a mortgage (chaincode ReleaseMortgage), signed by the same lender."""

    mortgage_id: str
    change_id: str
    signer_msp: str
    signer_identity: str

    def args(self) -> list[str]:
        return [self.mortgage_id, self.change_id]

    def recorded(self) -> dict[str, str]:
        return {"mortgage_id": self.mortgage_id, "lender": self.signer_identity}


@dataclass(frozen=True)
class DocumentAnchor:
    """A document's digest (and IPFS content id), as the chaincode's RecordDocument takes it."""

    document_id: str
    vin: str
    document_type: str
    sha256: str
    cid: str
    change_id: str
    signer_msp: str

    def args(self) -> list[str]:
        return [
            self.document_id,
            self.vin,
            self.document_type,
            self.sha256,
            self.cid,
            self.change_id,
        ]

    def recorded(self) -> dict[str, str]:
        """What an anchor must say of the document, checked on every read and by verify."""
        return {
            "document_id": self.document_id,
            "sha256": self.sha256,
            "cid": self.cid,
            "document_type": self.document_type,
        }


class LedgerRecord(Protocol):
    """What a write hands the ledger: the chaincode function's arguments and who signs."""

    @property
    def change_id(self) -> str: ...

    @property
    def signer_msp(self) -> str: ...

    def args(self) -> list[str]: ...


@dataclass(frozen=True)
class LedgerFunction:
    """One chaincode function the app writes with, declared once: the record it takes, the
    function's name, who signs it, and the event it emits (which the listener follows).

    The backends submit any declared record the same way (``Ledger.record``); the chaincode
    checks the signer's MSP, and the app that owns the rows confirms and reconciles them
    (``ledger.keepers``).
    """

    chaincode_name: str
    record_type: type[Any]
    signed_by: str  # for people: the chaincode enforces it from the signer's MSP
    subject: str  # the ledger change's "type": what GetChange says the change is about
    event: str = ""


FUNCTIONS: tuple[LedgerFunction, ...] = (
    LedgerFunction(
        chaincode_name="UpdateClearanceStatus",
        record_type=ClearanceChange,
        signed_by="the LTO to open, cancel or reopen; the clearing organisation to decide",
        subject="clearance",
        event=CLEARANCE_EVENT,
    ),
    LedgerFunction(
        chaincode_name="RegisterVehicle",
        record_type=VehicleRegistration,
        signed_by="the LTO",
        subject="vehicle",
        event=VEHICLE_EVENT,
    ),
    LedgerFunction(
        chaincode_name="RecordDocument",
        record_type=DocumentAnchor,
        signed_by="the uploader's organisation: the clearing organisation for its evidence, "
        "else the LTO",
        subject="document",
        event=DOCUMENT_EVENT,
    ),
    LedgerFunction(
        chaincode_name="TransferOwnership",
        record_type=OwnershipTransfer,
        signed_by="the LTO",
        subject="transfer",
        event=TRANSFER_EVENT,
    ),
    LedgerFunction(
        chaincode_name="RecordOrigin",
        record_type=VehicleOrigin,
        signed_by="the dealer (the dealers' MSP, the dealer named by its certificate)",
        subject="origin",
        event=ORIGIN_EVENT,
    ),
    LedgerFunction(
        chaincode_name="DeregisterVehicle",
        record_type=VehicleDeregistration,
        signed_by="the LTO",
        subject="deregistration",
        event=VEHICLE_DEREGISTERED_EVENT,
    ),
    LedgerFunction(
        chaincode_name="PlaceHold",
        record_type=HoldPlacement,
        signed_by="HPG for a stolen vehicle; the LTO for a violation, court order or "
        "administrative hold",
        subject="hold",
        event=HOLD_PLACED_EVENT,
    ),
    LedgerFunction(
        chaincode_name="LiftHold",
        record_type=HoldLifting,
        signed_by="the organisation that placed the hold",
        subject="hold_lift",
        event=HOLD_LIFTED_EVENT,
    ),
    LedgerFunction(
        chaincode_name="AnnotateMortgage",
        record_type=MortgageAnnotation,
        signed_by="the lender (the lenders' MSP, the lender named by its certificate)",
        subject="mortgage",
        event=MORTGAGE_ANNOTATED_EVENT,
    ),
    LedgerFunction(
        chaincode_name="ReleaseMortgage",
        record_type=MortgageRelease,
        signed_by="the lender that annotated the mortgage",
        subject="mortgage_release",
        event=MORTGAGE_RELEASED_EVENT,
    ),
)


# The events the declared functions emit: what a listener follows and a reconcile lists.
EVENTS = frozenset(function.event for function in FUNCTIONS if function.event)


def function_for(record: LedgerRecord) -> LedgerFunction:
    for function in FUNCTIONS:
        if isinstance(record, function.record_type):
            return function
    raise TypeError(f"{type(record).__name__} is no declared ledger record.")


@dataclass(frozen=True)
class ReceiptCheck:
    """The result of checking a receipt against the ledger itself."""

    ok: bool
    detail: str
    #: The entry is recorded and its promise of inclusion holds, but it is not in the tree yet.
    awaiting_inclusion: bool = False
    #: The size of the signed checkpoint the entry was proved to be in.
    included_in: int | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


class Ledger(abc.ABC):
    """A ledger backend. Writes raise LedgerUnavailable or LedgerRejected, never save half.

    Capabilities some backends have are declared here, off by default: a backend that has one
    turns it on and implements the methods that go with it, so callers ask the flag instead of
    the backend's class.
    """

    name: str
    #: A transparency log kept here: every entry can be replayed and checked, and each receipt
    #: has an inclusion proof under a signed tree head (``replay``, ``inclusion_proof``).
    is_transparency_log: ClassVar[bool] = False
    #: The ledger can list every change it holds, so a reconcile finds the changes the
    #: database lacks (``change_ids``).
    lists_changes: ClassVar[bool] = False
    #: The ledger streams the chaincode's events for a listener to follow (``events``).
    streams_events: ClassVar[bool] = False
    #: Writes may be submitted from several threads at once (they do not go through the
    #: caller's database connection), so independent records are submitted together.
    concurrent_writes: ClassVar[bool] = False

    def record(self, record: LedgerRecord) -> Receipt:
        """Submit a declared record with its chaincode function, signed as it says.

        The calling transaction holds the change's advisory lock until it ends, so a listener
        that sees the change committed can tell an unfinished writer from a rolled-back one.
        """
        hold_change(record.change_id)
        return self._submit_record(record)

    def record_all(self, records: Sequence[LedgerRecord]) -> list[Receipt]:
        """Submit independent records (of different keys) together, so that they cost one
        round trip to the ledger rather than one each; the receipts come in record order.

        Every record is tried. If any fails, the most telling failure is raised once all have
        finished: a refusal before an outage, since retrying cannot help it. What did commit
        stays on the ledger, and a retry with the same change ids is answered from it.
        """
        for record in records:
            hold_change(record.change_id)
        if not self.concurrent_writes or len(records) < 2:
            return [self._submit_record(record) for record in records]
        with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="ledger") as pool:
            running = [pool.submit(self._submit_record, record) for record in records]
            wait(running)
        failures = [future.exception() for future in running if future.exception()]
        for kind in (LedgerRejected, LedgerUnavailable, BaseException):
            for failure in failures:
                if isinstance(failure, kind):
                    raise failure
        return [future.result() for future in running]

    def _submit_record(self, record: LedgerRecord) -> Receipt:
        # Most records are signed by their MSP's one identity; a dealer's by its own.
        identity = getattr(record, "signer_identity", "")
        return self._submit(
            function_for(record).chaincode_name, record.args(), record.signer_msp, identity
        )

    def _submit(self, function: str, args: list[str], msp_id: str, identity: str = "") -> Receipt:
        """Submit one transaction of ``function``, signed by ``msp_id`` (by its identity named
        ``identity`` when the MSP has several): the one write a backend implements."""
        raise NotImplementedError(f"The {self.name} ledger cannot submit {function}.")

    def update_clearance_status(self, change: ClearanceChange) -> Receipt:
        """Record a clearance status change (chaincode UpdateClearanceStatus)."""
        return self.record(change)

    def register_vehicle(self, registration: VehicleRegistration) -> Receipt:
        """Record a registered vehicle (chaincode RegisterVehicle)."""
        return self.record(registration)

    def transfer_ownership(self, transfer: OwnershipTransfer) -> Receipt:
        """Record a vehicle's change of owner (chaincode TransferOwnership)."""
        return self.record(transfer)

    def record_origin(self, origin: VehicleOrigin) -> Receipt:
        """Record a new vehicle's origin, signed by its dealer (chaincode RecordOrigin)."""
        return self.record(origin)

    def deregister_vehicle(self, deregistration: VehicleDeregistration) -> Receipt:
        """Record that a vehicle is off the register for good (chaincode DeregisterVehicle)."""
        return self.record(deregistration)

    def record_document(self, anchor: DocumentAnchor) -> Receipt:
        """Anchor a document's digest (chaincode RecordDocument)."""
        return self.record(anchor)

    def world_state(self, function: str, identifier: str) -> dict[str, Any] | None:
        """The current ledger record a read function (GetClearance, GetVehicle) answers for
        ``identifier``, or None when the ledger has none."""
        try:
            return self._evaluate(function, [identifier])
        except LedgerRejected as exc:
            if "is not on the ledger" in str(exc):
                return None
            raise

    def _evaluate(self, function: str, args: list[str]) -> dict[str, Any]:
        """Run a read function of the chaincode: the one read a backend implements."""
        raise NotImplementedError(f"The {self.name} ledger cannot evaluate {function}.")

    @abc.abstractmethod
    def history(self, vin: str) -> list[dict[str, Any]]:
        """Every version of a vehicle's ledger record (chaincode GetVehicleHistory)."""

    @abc.abstractmethod
    def get_change(self, change_id: str) -> dict[str, Any] | None:
        """What the ledger recorded for a change id, or None (chaincode GetChange)."""

    @abc.abstractmethod
    def verify_receipt(self, *, tx_id: str, change_id: str) -> ReceiptCheck:
        """Check that the ledger holds this transaction and that it recorded this change."""

    @abc.abstractmethod
    def health(self) -> Health:
        """Whether the ledger answers, for /readyz."""

    def replay(self) -> Replay:
        """Recompute the whole log: links, tree, signatures and world state."""
        raise NotImplementedError(f"The {self.name} ledger is not a transparency log kept here.")

    def promise_of(self, tx_id: str) -> dict[str, Any] | None:
        """A transparency log's receipt proof for ``tx_id`` (leaf hash, promise of inclusion)."""
        return None

    def receipt_proof(self, *, tx_id: str, tree_size: int | None = None) -> dict[str, Any] | None:
        """The proof that transaction ``tx_id`` is in the signed tree of ``tree_size`` entries
        (the current tree by default), with the signed message and the key to check it; None
        when the ledger holds no such transaction."""
        raise NotImplementedError(f"The {self.name} ledger gives no inclusion proofs.")

    def change_ids(self, *, idle_seconds: float) -> set[str]:
        """The change id of every change the ledger holds."""
        raise NotImplementedError(f"The {self.name} ledger cannot list its changes.")

    def events(
        self, *, start_block: int, after_tx_id: str = "", idle_seconds: float | None = None
    ) -> Iterator[ChaincodeEventsResponse]:
        """The chaincode's events block by block from ``start_block`` (after ``after_tx_id``
        within it); with ``idle_seconds``, ending once the stream is that quiet."""
        raise NotImplementedError(f"The {self.name} ledger streams no events.")


def sha256_hex(text: str) -> str:
    """The digest under which free text (remarks, records) is anchored on the ledger."""
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def actor_pseudonym(user_id: int) -> str:
    """A stable pseudonymous id for a user: the ledger must never carry who they are."""
    key = settings.LEDGER_PSEUDONYM_KEY.encode()
    return hmac.new(key, f"user:{user_id}".encode(), hashlib.sha256).hexdigest()


def owner_pseudonym(vin: str, user_id: int) -> str:
    """The ledger's name for a vehicle's owner: one per vehicle and owner, not per person, so
    that the ledger cannot link one person's vehicles (a keyed hash, like ``actor_pseudonym``,
    under its own label)."""
    key = settings.LEDGER_PSEUDONYM_KEY.encode()
    return hmac.new(key, f"owner:{vin}:{user_id}".encode(), hashlib.sha256).hexdigest()
