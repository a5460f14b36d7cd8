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
    DEREGISTERED,
    HOLD_PLACERS,
    MEMBER_ATTRIBUTES,
    MEMBER_CODE_PATTERN,
    NEW,
    VIN_PATTERN,
    ClearanceStatus,
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
HOLD_PLACED_EVENT = "HoldPlaced"
HOLD_LIFTED_EVENT = "HoldLifted"
MORTGAGE_ANNOTATED_EVENT = "MortgageAnnotated"
MORTGAGE_RELEASED_EVENT = "MortgageReleased"

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_DOCUMENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CID = re.compile(r"^[A-Za-z0-9]{0,128}$")


def _key(kind: str, identifier: str) -> str:
    # An empty key is accepted by the shim and by some state databases; never write one.
    if not identifier:
        raise RuleViolation(
            f"A {kind} key needs an identifier.",
            reason="KEY_WITHOUT_IDENTIFIER",
            params={"kind": kind},
        )
    return f"{kind}:{identifier}"


def _require(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value or ""):
        raise RuleViolation(
            f"{what} {value!r} is not valid.",
            reason="INVALID_VALUE",
            params={"what": what, "value": value or ""},
        )
    return value


def _tx_time(stub: Any) -> str:
    stamp = stub.get_tx_timestamp()
    if stamp is None:
        raise RuleViolation("The transaction carries no timestamp.", reason="NO_TIMESTAMP")
    moment = datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _caller(ctx: Any) -> tuple[str, str]:
    """Return the creator's MSP id and the organisation kind it signs for."""
    msp_id = ctx.get_client_identity().get_mspid()
    return msp_id, msp_kinds().get(msp_id, "")


def _member(ctx: Any, kind: str, what: str) -> tuple[str, str]:
    """Return the creator's MSP id and the member of ``kind`` its certificate names, or refuse:
    a dealer's or lender's identity is an attribute its kind's CA enrolled into the
    certificate (Fabric attribute-based access control), never an argument."""
    msp_id, caller_kind = _caller(ctx)
    if caller_kind != kind:
        raise NotAuthorised(
            f"Only {what}; {msp_id or 'an unknown caller'} cannot.",
            reason="MEMBER_KIND_REQUIRED",
            params={"kind": kind, "caller": msp_id},
        )
    attribute = MEMBER_ATTRIBUTES[kind]
    member = ctx.get_client_identity().get_attribute(attribute) or ""
    if not MEMBER_CODE_PATTERN.match(member):
        raise NotAuthorised(
            f"The {msp_id} certificate names no {kind.lower()} (attribute {attribute}).",
            reason="CERTIFICATE_NAMES_NO_MEMBER",
            params={"caller": msp_id, "kind": kind, "attribute": attribute},
        )
    return msp_id, member


def _dealer(ctx: Any) -> tuple[str, str]:
    return _member(ctx, OrgKind.DEALER, "an accredited dealer records a vehicle's origin")


async def _refuse_if_held(stub: Any, vin: str, doing: str) -> None:
    """A vehicle with an active hold is not registered, renewed, transferred or deregistered
    (nor cleared) until the organisation that placed the hold lifts it."""
    holds = await _get_json(stub, _key("holds", vin))
    if holds and holds.get("active"):
        raise RuleViolation(
            f"Vehicle {vin} is on hold ({', '.join(sorted(holds['active']))}); it cannot be "
            f"{doing} until the hold is lifted.",
            reason="VEHICLE_ON_HOLD",
            params={"vin": vin, "holds": ", ".join(sorted(holds["active"])), "doing": doing},
        )


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
        return [
            "GetVehicle",
            "GetVehicleHistory",
            "GetClearance",
            "GetChange",
            "GetOrigin",
            "GetHold",
            "GetHolds",
            "GetEncumbrance",
        ]

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
            raise RuleViolation(
                f"Vehicle {vin} already has an origin record.",
                reason="ORIGIN_ALREADY_RECORDED",
                params={"vin": vin},
            )
        if await _get_json(stub, _key("vehicle", vin)) is not None:
            raise RuleViolation(
                f"Vehicle {vin} is already on the ledger; an origin is recorded before its "
                "first registration.",
                reason="ORIGIN_AFTER_REGISTRATION",
                params={"vin": vin},
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
            raise NotAuthorised(
                f"Only the LTO registers vehicles; {msp_id} cannot.",
                reason="LTO_ONLY_REGISTERS",
                params={"caller": msp_id},
            )
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        await _refuse_if_held(stub, vin, "registered or renewed")
        vehicle_key = _key("vehicle", vin)
        current = await _get_json(stub, vehicle_key)
        if current is not None and current.get("state") == DEREGISTERED:
            raise RuleViolation(
                f"Vehicle {vin} was deregistered ({current.get('deregistered_reason')}); a "
                "deregistered VIN is never registered again.",
                reason="VEHICLE_DEREGISTERED_FOR_GOOD",
                params={"vin": vin, "reason": current.get("deregistered_reason") or ""},
            )
        # A vehicle registered before the ledger named owners has none: its next
        # registration names it.
        if current is not None and current.get("owner") and current["owner"] != owner:
            raise RuleViolation(
                f"Vehicle {vin} has another owner on the ledger; a change of owner is "
                "recorded with TransferOwnership.",
                reason="OWNER_CHANGE_NEEDS_TRANSFER",
                params={"vin": vin},
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
            raise NotAuthorised(
                f"Only the LTO records a change of owner; {msp_id} cannot.",
                reason="LTO_ONLY_TRANSFERS",
                params={"caller": msp_id},
            )
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        if from_owner == to_owner:
            raise RuleViolation(
                f"A transfer of vehicle {vin} needs a new owner.",
                reason="TRANSFER_NEEDS_NEW_OWNER",
                params={"vin": vin},
            )
        await _refuse_if_held(stub, vin, "transferred")
        vehicle_key = _key("vehicle", vin)
        vehicle = await _get_json(stub, vehicle_key)
        if vehicle is None:
            raise RuleViolation(
                f"Vehicle {vin} is not registered on the ledger.",
                reason="VEHICLE_NOT_REGISTERED",
                params={"vin": vin},
            )
        if vehicle.get("state") == DEREGISTERED:
            raise RuleViolation(
                f"Vehicle {vin} was deregistered; it cannot change owner.",
                reason="DEREGISTERED_CANNOT_CHANGE_OWNER",
                params={"vin": vin},
            )
        # A vehicle registered before the ledger named owners takes the seller the LTO names.
        if vehicle.get("owner") and vehicle["owner"] != from_owner:
            raise RuleViolation(
                f"Vehicle {vin}'s owner on the ledger is not the seller of this transfer.",
                reason="SELLER_NOT_OWNER",
                params={"vin": vin},
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
            raise RuleViolation(
                f"Deregistration reason {reason!r} is not valid.",
                reason="INVALID_DEREGISTRATION_REASON",
                params={"reason": reason},
            )
        _require(_DIGEST, evidence_digest, "Evidence digest")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, kind = _caller(ctx)
        if kind != OrgKind.LTO:
            raise NotAuthorised(
                f"Only the LTO deregisters vehicles; {msp_id} cannot.",
                reason="LTO_ONLY_DEREGISTERS",
                params={"caller": msp_id},
            )
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        await _refuse_if_held(stub, vin, "deregistered")
        vehicle_key = _key("vehicle", vin)
        vehicle = await _get_json(stub, vehicle_key)
        if vehicle is None:
            raise RuleViolation(
                f"Vehicle {vin} is not registered on the ledger.",
                reason="VEHICLE_NOT_REGISTERED",
                params={"vin": vin},
            )
        if vehicle.get("state") == DEREGISTERED:
            raise RuleViolation(
                f"Vehicle {vin} is already deregistered.",
                reason="ALREADY_DEREGISTERED",
                params={"vin": vin},
            )
        if await _get_json(stub, _key("encumbrance", vin)) is not None:
            raise RuleViolation(
                f"Vehicle {vin} carries an active mortgage; its lender releases it before the "
                "vehicle is deregistered.",
                reason="MORTGAGE_BLOCKS_DEREGISTRATION",
                params={"vin": vin},
            )
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
            raise RuleViolation(
                f"Unknown clearance kind {kind!r}.",
                reason="UNKNOWN_CLEARANCE_KIND",
                params={"kind": kind},
            )

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
            raise RuleViolation(
                f"Clearance {clearance_id} belongs to another vehicle or kind.",
                reason="CLEARANCE_MISMATCH",
                params={"clearance": clearance_id},
            )
        if from_status != ledger_status:
            raise RuleViolation(
                f"Clearance {clearance_id} is {ledger_status or 'not opened'} on the ledger, "
                f"not {from_status or 'new'}.",
                reason="CLEARANCE_STATUS_DIFFERS",
                params={
                    "clearance": clearance_id,
                    "ledger_status": ledger_status or "",
                    "from": from_status or "new",
                },
            )
        check_clearance_authority(
            kind=kind, current=from_status, target=to_status, actor_kind=actor_kind
        )
        member = ""
        if actor_kind == OrgKind.LENDER:
            # Not any lender: the one whose mortgage the vehicle carries consents.
            _, member = _member(ctx, OrgKind.LENDER, "a lender consents for its mortgage")
            encumbrance = await _get_json(stub, _key("encumbrance", vin))
            if encumbrance is None or encumbrance["lender"] != member:
                raise NotAuthorised(
                    f"Only the lender holding the mortgage on vehicle {vin} decides its "
                    f"{kind} clearance; {member} does not hold it.",
                    reason="LENDER_DOES_NOT_HOLD_MORTGAGE",
                    params={"vin": vin, "kind": kind, "member": member},
                )
        if to_status == ClearanceStatus.APPROVED:
            await _refuse_if_held(stub, vin, "cleared")

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
        if member:
            record["member"] = member
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

    async def PlaceHold(
        self,
        ctx: TransactionContext,
        hold_id: str,
        vin: str,
        reason: str,
        evidence_digest: str,
        change_id: str,
    ) -> str:
        """Hold a vehicle ("alarm") for a reason, with the SHA-256 of the evidence, signed by
        the organisation kind the reason belongs to (HPG for stolen, else the LTO); the vehicle
        need not be registered yet."""
        stub = ctx.get_stub()
        _require(_IDENTIFIER, hold_id, "Hold id")
        _require(VIN_PATTERN, vin, "VIN")
        _require(_DIGEST, evidence_digest, "Evidence digest")
        _require(_IDENTIFIER, change_id, "Change id")
        if reason not in HOLD_PLACERS:
            raise RuleViolation(
                f"Hold reason {reason!r} is not valid.",
                reason="INVALID_HOLD_REASON",
                params={"reason": reason},
            )
        msp_id, kind = _caller(ctx)
        if kind != HOLD_PLACERS[reason]:
            raise NotAuthorised(
                f"Only {HOLD_PLACERS[reason]} places a {reason.replace('_', ' ')} hold; "
                f"{msp_id or 'an unknown caller'} cannot.",
                reason="HOLD_PLACER_NOT_ALLOWED",
                params={"allowed": HOLD_PLACERS[reason], "reason": reason, "caller": msp_id},
            )
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        hold_key = _key("hold", hold_id)
        if await _get_json(stub, hold_key) is not None:
            raise RuleViolation(
                f"Hold {hold_id} is already on the ledger.",
                reason="HOLD_ALREADY_RECORDED",
                params={"hold": hold_id},
            )
        timestamp = _tx_time(stub)
        record = {
            "hold_id": hold_id,
            "vin": vin,
            "reason": reason,
            "evidence_digest": evidence_digest,
            "state": "active",
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        holds_key = _key("holds", vin)
        holds = await _get_json(stub, holds_key) or {"vin": vin, "active": []}
        await _put_json(stub, hold_key, record)
        await _put_json(stub, holds_key, {**holds, "active": sorted({*holds["active"], hold_id})})
        await _put_json(stub, change_key, {**record, "type": "hold"})
        event = {"hold_id": hold_id, "vin": vin, "change_id": change_id, "timestamp": timestamp}
        stub.set_event(HOLD_PLACED_EVENT, _dump(event).encode())
        return _dump(record)

    async def LiftHold(
        self, ctx: TransactionContext, hold_id: str, evidence_digest: str, change_id: str
    ) -> str:
        """Lift an active hold, with the SHA-256 of the evidence (a recovery report, a court's
        lifting order); only the organisation (MSP) that placed it may."""
        stub = ctx.get_stub()
        _require(_IDENTIFIER, hold_id, "Hold id")
        _require(_DIGEST, evidence_digest, "Evidence digest")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, _ = _caller(ctx)
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        hold_key = _key("hold", hold_id)
        hold = await _get_json(stub, hold_key)
        if hold is None:
            raise RuleViolation(
                f"Hold {hold_id} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": hold_id},
            )
        if hold["msp_id"] != msp_id:
            raise NotAuthorised(
                f"Only {hold['msp_id']}, which placed hold {hold_id}, lifts it; "
                f"{msp_id or 'an unknown caller'} cannot.",
                reason="HOLD_LIFTER_NOT_ALLOWED",
                params={"allowed": hold["msp_id"], "hold": hold_id, "caller": msp_id},
            )
        if hold["state"] != "active":
            raise RuleViolation(
                f"Hold {hold_id} is already lifted.",
                reason="HOLD_ALREADY_LIFTED",
                params={"hold": hold_id},
            )
        timestamp = _tx_time(stub)
        vin = hold["vin"]
        holds_key = _key("holds", vin)
        holds = await _get_json(stub, holds_key) or {"vin": vin, "active": []}
        lifted = {
            **hold,
            "state": "lifted",
            "lifted_change_id": change_id,
            "lift_evidence_digest": evidence_digest,
        }
        record = {
            "hold_id": hold_id,
            "vin": vin,
            "evidence_digest": evidence_digest,
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        await _put_json(stub, hold_key, lifted)
        remaining = [other for other in holds["active"] if other != hold_id]
        await _put_json(stub, holds_key, {**holds, "active": remaining})
        await _put_json(stub, change_key, {**record, "type": "hold_lift"})
        event = {"hold_id": hold_id, "vin": vin, "change_id": change_id, "timestamp": timestamp}
        stub.set_event(HOLD_LIFTED_EVENT, _dump(event).encode())
        return _dump(record)

    async def AnnotateMortgage(
        self,
        ctx: TransactionContext,
        mortgage_id: str,
        vin: str,
        consent_digest: str,
        change_id: str,
    ) -> str:
        """Annotate a chattel mortgage on a registered vehicle, signed by the lender its
        certificate names, with the SHA-256 of the owner's consent; no amounts, no names.
        One active mortgage per vehicle."""
        stub = ctx.get_stub()
        _require(_IDENTIFIER, mortgage_id, "Mortgage id")
        _require(VIN_PATTERN, vin, "VIN")
        _require(_DIGEST, consent_digest, "Consent digest")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, lender = _member(ctx, OrgKind.LENDER, "a lender annotates a chattel mortgage")
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        vehicle = await _get_json(stub, _key("vehicle", vin))
        if vehicle is None or vehicle.get("state") == DEREGISTERED:
            raise RuleViolation(
                f"Vehicle {vin} is not a registered vehicle on the ledger.",
                reason="VEHICLE_NOT_REGISTERED",
                params={"vin": vin},
            )
        mortgage_key = _key("mortgage", mortgage_id)
        if await _get_json(stub, mortgage_key) is not None:
            raise RuleViolation(
                f"Mortgage {mortgage_id} is already on the ledger.",
                reason="MORTGAGE_ALREADY_RECORDED",
                params={"mortgage": mortgage_id},
            )
        encumbrance_key = _key("encumbrance", vin)
        if await _get_json(stub, encumbrance_key) is not None:
            raise RuleViolation(
                f"Vehicle {vin} already carries an active mortgage.",
                reason="ALREADY_MORTGAGED",
                params={"vin": vin},
            )
        timestamp = _tx_time(stub)
        record = {
            "mortgage_id": mortgage_id,
            "vin": vin,
            "lender": lender,
            "consent_digest": consent_digest,
            "state": "active",
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        await _put_json(stub, mortgage_key, record)
        await _put_json(
            stub, encumbrance_key, {"vin": vin, "mortgage_id": mortgage_id, "lender": lender}
        )
        await _put_json(stub, change_key, {**record, "type": "mortgage"})
        event = {"mortgage_id": mortgage_id, "vin": vin, "change_id": change_id}
        stub.set_event(MORTGAGE_ANNOTATED_EVENT, _dump({**event, "timestamp": timestamp}).encode())
        return _dump(record)

    async def ReleaseMortgage(
        self, ctx: TransactionContext, mortgage_id: str, change_id: str
    ) -> str:
        """Release an active mortgage; only the lender that annotated it may (the chaincode
        compares the lender its certificate names, not only the kind)."""
        stub = ctx.get_stub()
        _require(_IDENTIFIER, mortgage_id, "Mortgage id")
        _require(_IDENTIFIER, change_id, "Change id")
        msp_id, lender = _member(ctx, OrgKind.LENDER, "a lender releases a chattel mortgage")
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        mortgage_key = _key("mortgage", mortgage_id)
        mortgage = await _get_json(stub, mortgage_key)
        if mortgage is None:
            raise RuleViolation(
                f"Mortgage {mortgage_id} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": mortgage_id},
            )
        if mortgage["lender"] != lender:
            raise NotAuthorised(
                f"Only {mortgage['lender']}, which annotated mortgage {mortgage_id}, releases it; "
                f"{lender} cannot.",
                reason="MORTGAGE_RELEASER_NOT_ALLOWED",
                params={"allowed": mortgage["lender"], "mortgage": mortgage_id, "caller": lender},
            )
        if mortgage["state"] != "active":
            raise RuleViolation(
                f"Mortgage {mortgage_id} is already released.",
                reason="MORTGAGE_ALREADY_RELEASED",
                params={"mortgage": mortgage_id},
            )
        timestamp = _tx_time(stub)
        vin = mortgage["vin"]
        record = {
            "mortgage_id": mortgage_id,
            "vin": vin,
            "lender": lender,
            "msp_id": msp_id,
            "change_id": change_id,
            "tx_id": stub.get_txid(),
            "timestamp": timestamp,
        }
        await _put_json(
            stub, mortgage_key, {**mortgage, "state": "released", "released_change_id": change_id}
        )
        await stub.delete_state(_key("encumbrance", vin))
        await _put_json(stub, change_key, {**record, "type": "mortgage_release"})
        event = {"mortgage_id": mortgage_id, "vin": vin, "change_id": change_id}
        stub.set_event(MORTGAGE_RELEASED_EVENT, _dump({**event, "timestamp": timestamp}).encode())
        return _dump(record)

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
            raise NotAuthorised(
                f"{msp_id or 'An unknown caller'} is not a Talaan organisation.",
                reason="UNKNOWN_ORGANISATION",
                params={"caller": msp_id},
            )
        change_key = _key("change", change_id)
        earlier = await _get_json(stub, change_key)
        if earlier is not None:
            return _dump({**earlier, "replayed": True})
        document_key = _key("document", document_id)
        if await _get_json(stub, document_key) is not None:
            raise RuleViolation(
                f"Document {document_id} is already anchored.",
                reason="DOCUMENT_ALREADY_ANCHORED",
                params={"document": document_id},
            )
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
            raise RuleViolation(
                f"Vehicle {vin} is not on the ledger.", reason="NOT_ON_LEDGER", params={"what": vin}
            )
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
            raise RuleViolation(
                f"Clearance {clearance_id} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": clearance_id},
            )
        return _dump(record)

    async def GetOrigin(self, ctx: TransactionContext, vin: str) -> str:
        """Return the vehicle's origin record."""
        record = await _get_json(ctx.get_stub(), _key("origin", _require(VIN_PATTERN, vin, "VIN")))
        if record is None:
            raise RuleViolation(
                f"The origin of vehicle {vin} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": vin},
            )
        return _dump(record)

    async def GetHold(self, ctx: TransactionContext, hold_id: str) -> str:
        """Return a hold's ledger record (active or lifted)."""
        key = _key("hold", _require(_IDENTIFIER, hold_id, "Hold id"))
        record = await _get_json(ctx.get_stub(), key)
        if record is None:
            raise RuleViolation(
                f"Hold {hold_id} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": hold_id},
            )
        return _dump(record)

    async def GetHolds(self, ctx: TransactionContext, vin: str) -> str:
        """Return the ids of the vehicle's active holds (an empty list when it has none)."""
        vin = _require(VIN_PATTERN, vin, "VIN")
        record = await _get_json(ctx.get_stub(), _key("holds", vin))
        return _dump(record or {"vin": vin, "active": []})

    async def GetEncumbrance(self, ctx: TransactionContext, vin: str) -> str:
        """Return the vehicle's active mortgage (id and lender)."""
        vin = _require(VIN_PATTERN, vin, "VIN")
        record = await _get_json(ctx.get_stub(), _key("encumbrance", vin))
        if record is None:
            raise RuleViolation(
                f"An encumbrance of vehicle {vin} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": vin},
            )
        return _dump(record)

    async def GetChange(self, ctx: TransactionContext, change_id: str) -> str:
        """Return what was recorded for a change id, so a caller can check a receipt."""
        key = _key("change", _require(_IDENTIFIER, change_id, "Change id"))
        record = await _get_json(ctx.get_stub(), key)
        if record is None:
            raise RuleViolation(
                f"Change {change_id} is not on the ledger.",
                reason="NOT_ON_LEDGER",
                params={"what": change_id},
            )
        return _dump(record)


def new_chaincode() -> Any:
    """Build the dispatching chaincode around the contract."""
    from chaincode import fabric_shim_fixes
    from chaincode.shim import ContractChaincode

    # The fixed ClientIdentity reads a certificate's attributes (a dealer's), in every backend.
    fabric_shim_fixes.apply()
    return ContractChaincode.new_chaincode(TalaanContract())
