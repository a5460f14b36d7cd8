"""The Talaan clearance contract.

Only identifiers, statuses, organisation MSP ids, pseudonymous actor and owner ids and SHA-256
digests are written: the ledger cannot forget, so personal data (names, addresses, ID numbers,
free text) stays in the application's database (Philippine Data Privacy Act).

Authority comes from the transaction creator's MSP id, never from an argument, so one
organisation cannot sign another's decision.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from chaincode.rules import (
    DEALER_ATTRIBUTE,
    DEALER_CODE_PATTERN,
    DEREGISTERED,
    NEW,
    VIN_PATTERN,
    DeregistrationReason,
    NotAuthorised,
    OrgKind,
    RuleViolation,
    check_clearance_authority,
    clearance_signers,
    msp_kinds,
)
from chaincode.shim import Contract, TransactionContext

CLEARANCE_EVENT = "ClearanceStatusUpdated"
# Every write emits an event, so that a listener can confirm each receipt's block.
VEHICLE_EVENT = "VehicleRegistered"
DOCUMENT_EVENT = "DocumentRecorded"
TRANSFER_EVENT = "OwnershipTransferred"
ORIGIN_EVENT = "OriginRecorded"
VEHICLE_DEREGISTERED_EVENT = "VehicleDeregistered"

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_DOCUMENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CID = re.compile(r"^[A-Za-z0-9]{0,128}$")


def _key(kind: str, identifier: str) -> str:
    # An empty key is accepted by the shim and by some state databases; never write one.
    if not identifier:
        raise RuleViolation(f"A {kind} key needs an identifier.")
    return f"{kind}:{identifier}"


def _require(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value or ""):
        raise RuleViolation(f"{what} {value!r} is not valid.")
    return value


def _tx_time(stub: Any) -> str:
    stamp = stub.get_tx_timestamp()
    if stamp is None:
        raise RuleViolation("The transaction carries no timestamp.")
    moment = datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _caller(ctx: Any) -> tuple[str, str]:
    """Return the creator's MSP id and the organisation kind it signs for."""
    msp_id = ctx.get_client_identity().get_mspid()
    return msp_id, msp_kinds().get(msp_id, "")


def _dealer(ctx: Any) -> tuple[str, str]:
    """Return the creator's MSP id and the dealer its certificate names, or refuse: a dealer's
    identity is an attribute the dealers' CA enrolled into the certificate, never an argument."""
    msp_id, kind = _caller(ctx)
    if kind != OrgKind.DEALER:
        raise NotAuthorised(
            f"Only an accredited dealer records a vehicle's origin; {msp_id} cannot."
        )
    dealer = ctx.get_client_identity().get_attribute(DEALER_ATTRIBUTE) or ""
    if not DEALER_CODE_PATTERN.match(dealer):
        raise NotAuthorised(
            f"The {msp_id} certificate names no dealer (attribute {DEALER_ATTRIBUTE})."
        )
    return msp_id, dealer


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


async def _get_json(stub: Any, key: str) -> dict[str, Any] | None:
    raw = await stub.get_state(key)
    if not raw:
        return None
    return json.loads(raw)


async def _put_json(stub: Any, key: str, record: dict[str, Any]) -> None:
    await stub.put_state(key, _dump(record).encode())


class TalaanContract(Contract):
    """Vehicles, clearance requests and documents of the LTO clearance workflow."""

    Name = "talaan"

    def get_evaluate_transactions(self) -> list[str]:
        return ["GetVehicle", "GetVehicleHistory", "GetClearance", "GetChange", "GetOrigin"]

    async def RecordOrigin(
        self, ctx: TransactionContext, vin: str, record_digest: str, change_id: str
    ) -> str:
        """Record where a new vehicle comes from (the dealer's or importer's origin record),
        before any owner exists: once per VIN, signed by the dealer its certificate names."""
        stub = ctx.get_stub()
        _require(VIN_PATTERN, vin, "VIN")
        _require(_DIGEST, record_digest, "Record digest")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, dealer = _dealer(ctx)
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        origin_key = _key("origin", vin)
        existing = await _get_json(stub, origin_key)
        if existing is not None:
            raise RuleViolation(f"Vehicle {vin} already has an origin record.")
        if await _get_json(stub, _key("vehicle", vin)) is not None:
            raise RuleViolation(
                f"Vehicle {vin} is already on the ledger; an origin is recorded before its "
                "first registration."
            )
        record = {
            "vin": vin,
            "record_digest": record_digest,
            "dealer": dealer,
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": _tx_time(stub),
        }
        await _put_json(stub, origin_key, record)
        await _put_json(stub, change_key, {**record, "type": "origin"})
        event = {"vin": vin, "change_id": change_id, "timestamp": record["timestamp"]}
        stub.set_event(ORIGIN_EVENT, _dump(event).encode())
        return _dump(record)

    async def RegisterVehicle(
        self, ctx: TransactionContext, vin: str, record_digest: str, change_id: str, owner: str
    ) -> str:
        """Record (or re-record) a registered vehicle and its owner's pseudonym; only the LTO
        may do this. Once the ledger names an owner, only TransferOwnership changes it."""
        stub = ctx.get_stub()
        _require(VIN_PATTERN, vin, "VIN")
        _require(_DIGEST, record_digest, "Record digest")
        _require(_IDENTIFIER, change_id, "Change id")
        _require(_DIGEST, owner, "Owner pseudonym")
        msp_id, kind = _caller(ctx)
        if kind != OrgKind.LTO:
            raise NotAuthorised(f"Only the LTO registers vehicles; {msp_id} cannot.")
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        vehicle_key = _key("vehicle", vin)
        current = await _get_json(stub, vehicle_key)
        if current is not None and current.get("state") == DEREGISTERED:
            raise RuleViolation(
                f"Vehicle {vin} was deregistered ({current.get('deregistered_reason')}); a "
                "deregistered VIN is never registered again."
            )
        # A vehicle registered before the ledger named owners has none: its next
        # registration names it.
        if current is not None and current.get("owner") and current["owner"] != owner:
            raise RuleViolation(
                f"Vehicle {vin} has another owner on the ledger; a change of owner is "
                "recorded with TransferOwnership."
            )
        record = {
            "vin": vin,
            "record_digest": record_digest,
            "owner": owner,
            "registered_by": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": _tx_time(stub),
        }
        await _put_json(stub, vehicle_key, record)
        await _put_json(stub, change_key, {**record, "type": "vehicle"})
        event = {"vin": vin, "change_id": change_id, "timestamp": record["timestamp"]}
        stub.set_event(VEHICLE_EVENT, _dump(event).encode())
        return _dump(record)

    async def TransferOwnership(
        self, ctx: TransactionContext, vin: str, from_owner: str, to_owner: str, change_id: str
    ) -> str:
        """Move a registered vehicle from its owner's pseudonym to the buyer's, once per change
        id; only the LTO may do this, and only from the owner the ledger names."""
        stub = ctx.get_stub()
        _require(VIN_PATTERN, vin, "VIN")
        _require(_DIGEST, from_owner, "Seller's pseudonym")
        _require(_DIGEST, to_owner, "Buyer's pseudonym")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, kind = _caller(ctx)
        if kind != OrgKind.LTO:
            raise NotAuthorised(f"Only the LTO records a change of owner; {msp_id} cannot.")
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        if from_owner == to_owner:
            raise RuleViolation(f"A transfer of vehicle {vin} needs a new owner.")
        vehicle_key = _key("vehicle", vin)
        vehicle = await _get_json(stub, vehicle_key)
        if vehicle is None:
            raise RuleViolation(f"Vehicle {vin} is not registered on the ledger.")
        if vehicle.get("state") == DEREGISTERED:
            raise RuleViolation(f"Vehicle {vin} was deregistered; it cannot change owner.")
        # A vehicle registered before the ledger named owners takes the seller the LTO names.
        if vehicle.get("owner") and vehicle["owner"] != from_owner:
            raise RuleViolation(
                f"Vehicle {vin}'s owner on the ledger is not the seller of this transfer."
            )
        timestamp = _tx_time(stub)
        record = {
            "vin": vin,
            "from_owner": from_owner,
            "to_owner": to_owner,
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        await _put_json(stub, vehicle_key, {**vehicle, "owner": to_owner})
        await _put_json(stub, change_key, {**record, "type": "transfer"})
        event = {"vin": vin, "change_id": change_id, "timestamp": timestamp}
        stub.set_event(TRANSFER_EVENT, _dump(event).encode())
        return _dump(record)

    async def DeregisterVehicle(
        self,
        ctx: TransactionContext,
        vin: str,
        reason: str,
        evidence_digest: str,
        change_id: str,
    ) -> str:
        """Take a registered vehicle off the register for good (scrapped, exported, total
        loss), with the SHA-256 of the evidence, once per change id; only the LTO may do this.
        Its VIN is never registered again."""
        stub = ctx.get_stub()
        _require(VIN_PATTERN, vin, "VIN")
        if reason not in {r.value for r in DeregistrationReason}:
            raise RuleViolation(f"Deregistration reason {reason!r} is not valid.")
        _require(_DIGEST, evidence_digest, "Evidence digest")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, kind = _caller(ctx)
        if kind != OrgKind.LTO:
            raise NotAuthorised(f"Only the LTO deregisters vehicles; {msp_id} cannot.")
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        vehicle_key = _key("vehicle", vin)
        vehicle = await _get_json(stub, vehicle_key)
        if vehicle is None:
            raise RuleViolation(f"Vehicle {vin} is not registered on the ledger.")
        if vehicle.get("state") == DEREGISTERED:
            raise RuleViolation(f"Vehicle {vin} is already deregistered.")
        timestamp = _tx_time(stub)
        record = {
            "vin": vin,
            "reason": reason,
            "evidence_digest": evidence_digest,
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        await _put_json(
            stub,
            vehicle_key,
            {
                **vehicle,
                "state": DEREGISTERED,
                "deregistered_reason": reason,
                "deregistered_change_id": change_id,
            },
        )
        await _put_json(stub, change_key, {**record, "type": "deregistration"})
        event = {"vin": vin, "change_id": change_id, "timestamp": timestamp}
        stub.set_event(VEHICLE_DEREGISTERED_EVENT, _dump(event).encode())
        return _dump(record)

    async def UpdateClearanceStatus(
        self,
        ctx: TransactionContext,
        clearance_id: str,
        vin: str,
        kind: str,
        from_status: str,
        to_status: str,
        change_id: str,
        actor_id: str,
        remarks_digest: str,
    ) -> str:
        """Move a clearance request to a new status, once per change id.

        The move must follow the shared workflow rules, start from the status the ledger
        holds, and be signed by the organisation the rules give it to.
        """
        stub = ctx.get_stub()
        _require(_IDENTIFIER, clearance_id, "Clearance id")
        _require(VIN_PATTERN, vin, "VIN")
        _require(_IDENTIFIER, change_id, "Change id")
        _require(_DIGEST, actor_id, "Actor id")
        if remarks_digest:
            _require(_DIGEST, remarks_digest, "Remarks digest")
        if kind not in clearance_signers():
            raise RuleViolation(f"Unknown clearance kind {kind!r}.")

        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            # A retry of a change already recorded: answer as before, write nothing.
            return _dump({**earlier, "replayed": True})

        msp_id, actor_kind = _caller(ctx)
        clearance_key = _key("clearance", clearance_id)
        current = await _get_json(stub, clearance_key)
        ledger_status = current["status"] if current else NEW
        if current and (current["vin"] != vin or current["kind"] != kind):
            raise RuleViolation(f"Clearance {clearance_id} belongs to another vehicle or kind.")
        if from_status != ledger_status:
            raise RuleViolation(
                f"Clearance {clearance_id} is {ledger_status or 'not opened'} on the ledger, "
                f"not {from_status or 'new'}."
            )
        check_clearance_authority(
            kind=kind, current=from_status, target=to_status, actor_kind=actor_kind
        )

        timestamp = _tx_time(stub)
        record = {
            "clearance_id": clearance_id,
            "vin": vin,
            "kind": kind,
            "status": to_status,
            "change_id": change_id,
            "actor_id": actor_id,
            "msp_id": msp_id,
            "remarks_digest": remarks_digest,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        change = {**record, "type": "clearance", "from_status": from_status}
        await _put_json(stub, clearance_key, record)
        await _put_json(stub, change_key, change)
        event = {
            "clearance_id": clearance_id,
            "vin": vin,
            "kind": kind,
            "from_status": from_status,
            "to_status": to_status,
            "change_id": change_id,
            "organisation": msp_id,
            "timestamp": timestamp,
        }
        stub.set_event(CLEARANCE_EVENT, _dump(event).encode())
        return _dump(change)

    async def RecordDocument(
        self,
        ctx: TransactionContext,
        document_id: str,
        vin: str,
        document_type: str,
        sha256: str,
        cid: str,
        change_id: str,
    ) -> str:
        """Anchor a document's digest (and IPFS content id) for a vehicle."""
        stub = ctx.get_stub()
        _require(_IDENTIFIER, document_id, "Document id")
        _require(VIN_PATTERN, vin, "VIN")
        _require(_DOCUMENT_TYPE, document_type, "Document type")
        _require(_DIGEST, sha256, "SHA-256")
        _require(_CID, cid, "Content id")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, kind = _caller(ctx)
        if not kind:
            raise NotAuthorised(f"{msp_id or 'An unknown caller'} is not a Talaan organisation.")
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        document_key = _key("document", document_id)
        if await _get_json(stub, document_key) is not None:
            raise RuleViolation(f"Document {document_id} is already anchored.")
        record = {
            "document_id": document_id,
            "vin": vin,
            "document_type": document_type,
            "sha256": sha256,
            "cid": cid,
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": _tx_time(stub),
        }
        await _put_json(stub, document_key, record)
        await _put_json(stub, change_key, {**record, "type": "document"})
        event = {
            "document_id": document_id,
            "vin": vin,
            "change_id": change_id,
            "timestamp": record["timestamp"],
        }
        stub.set_event(DOCUMENT_EVENT, _dump(event).encode())
        return _dump(record)

    async def GetVehicle(self, ctx: TransactionContext, vin: str) -> str:
        """Return the vehicle's ledger record."""
        record = await _get_json(ctx.get_stub(), _key("vehicle", _require(VIN_PATTERN, vin, "VIN")))
        if record is None:
            raise RuleViolation(f"Vehicle {vin} is not on the ledger.")
        return _dump(record)

    async def GetVehicleHistory(self, ctx: TransactionContext, vin: str) -> str:
        """Return every version of the vehicle's record, from the ledger's own key history."""
        stub = ctx.get_stub()
        history = []
        iterator = await stub.get_history_for_key(
            _key("vehicle", _require(VIN_PATTERN, vin, "VIN"))
        )
        async for modification in iterator:
            history.append(
                {
                    "tx_id": modification.tx_id,
                    "is_delete": modification.is_delete,
                    "value": json.loads(modification.value) if modification.value else None,
                }
            )
        return _dump({"vin": vin, "history": history})

    async def GetClearance(self, ctx: TransactionContext, clearance_id: str) -> str:
        """Return the clearance request's current ledger record."""
        key = _key("clearance", _require(_IDENTIFIER, clearance_id, "Clearance id"))
        record = await _get_json(ctx.get_stub(), key)
        if record is None:
            raise RuleViolation(f"Clearance {clearance_id} is not on the ledger.")
        return _dump(record)

    async def GetOrigin(self, ctx: TransactionContext, vin: str) -> str:
        """Return the vehicle's origin record."""
        record = await _get_json(ctx.get_stub(), _key("origin", _require(VIN_PATTERN, vin, "VIN")))
        if record is None:
            raise RuleViolation(f"The origin of vehicle {vin} is not on the ledger.")
        return _dump(record)

    async def GetChange(self, ctx: TransactionContext, change_id: str) -> str:
        """Return what was recorded for a change id, so a caller can check a receipt."""
        key = _key("change", _require(_IDENTIFIER, change_id, "Change id"))
        record = await _get_json(ctx.get_stub(), key)
        if record is None:
            raise RuleViolation(f"Change {change_id} is not on the ledger.")
        return _dump(record)


def new_chaincode() -> Any:
    """Build the dispatching chaincode around the contract."""
    from chaincode import fabric_shim_fixes
    from chaincode.shim import ContractChaincode

    # The fixed ClientIdentity reads a certificate's attributes (a dealer's), in every backend.
    fabric_shim_fixes.apply()
    return ContractChaincode.new_chaincode(TalaanContract())
