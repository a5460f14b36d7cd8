"""The workflow rules that the chaincode and the Django app must agree on.

Plain Python with no Django import: the chaincode enforces these on the ledger, and
``clearance/`` imports the same definitions so the two can never drift apart.
"""

from __future__ import annotations

import json
import os
import re
from enum import StrEnum

# ISO 3779 vehicle identification number: 17 characters; I, O and Q are never used because
# they are easily mistaken for 1 and 0.
VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


class DeregistrationReason(StrEnum):
    """Why the LTO takes a vehicle off the register for good: the ledger records the reason."""

    SCRAPPED = "scrapped"
    EXPORTED = "exported"
    TOTAL_LOSS = "total_loss"


# A vehicle record's state on the ledger once it is deregistered; it never changes again.
DEREGISTERED = "deregistered"


# A refusal crosses the peer as one string (the chaincode response's message): the English
# sentence, then the stable reason and its parameters in brackets, so that the app can say it
# in the reader's language and an older app, a log or a person still reads the sentence.
_REFUSAL_TAIL = re.compile(r" \[(?P<reason>[A-Z][A-Z0-9_]*) (?P<params>\{.*\})\]$", re.DOTALL)


class RuleViolation(Exception):
    """A request that the workflow rules refuse; retrying it unchanged cannot help.

    ``reason`` is a stable code (``TRANSITION_NOT_ALLOWED``) and ``params`` its values
    (``{"from": "approved", "to": "pending"}``); ``message`` is the English sentence.
    ``str()`` is the form that travels through the peer: the sentence, then
    ``[REASON {params}]``.
    """

    code = "rule_violation"
    default_reason = "RULE_VIOLATION"

    def __init__(
        self, message: str, *, reason: str | None = None, params: dict[str, str] | None = None
    ) -> None:
        self.message = message
        self.reason = reason or self.default_reason
        self.params = {key: str(value) for key, value in (params or {}).items()}
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} [{self.reason} {json.dumps(self.params, sort_keys=True)}]"


def parse_refusal(text: str) -> tuple[str, str, dict[str, str]]:
    """Split a refusal as it came through the peer into (sentence, reason, params); a text
    without the bracketed tail (an older chaincode, another failure) is its own sentence with
    no reason."""
    match = _REFUSAL_TAIL.search(text)
    if match is None:
        return text, "", {}
    try:
        params = json.loads(match.group("params"))
    except ValueError:
        return text, "", {}
    if not isinstance(params, dict):
        return text, "", {}
    return text[: match.start()], match.group("reason"), {k: str(v) for k, v in params.items()}


class TransitionNotAllowed(RuleViolation):
    """The move from the current status to the requested one is not part of the workflow."""

    code = "transition_not_allowed"
    default_reason = "TRANSITION_NOT_ALLOWED"


class NotAuthorised(RuleViolation):
    """The caller's organisation may not make this change."""

    code = "not_authorised"
    default_reason = "NOT_AUTHORISED"


class OrgKind(StrEnum):
    LTO = "LTO"
    HPG = "HPG"
    INSURANCE = "INSURANCE"
    EMISSION = "EMISSION"
    # Accredited dealers and importers, and lenders (banks, financing companies): one MSP for
    # each kind, each member named by an attribute of its certificate (MEMBER_ATTRIBUTES), so
    # that hundreds of dealers or lenders do not need hundreds of organisations on the channel.
    DEALER = "DEALER"
    LENDER = "LENDER"


# The Fabric CA attribute (``fabric-ca-client register --id.attrs talaan.dealer=<code>:ecert``)
# that names which member of a many-member kind an identity signs for: Fabric attribute-based
# access control. The value is the member organisation's code.
DEALER_ATTRIBUTE = "talaan.dealer"
LENDER_ATTRIBUTE = "talaan.lender"
MEMBER_ATTRIBUTES: dict[str, str] = {
    OrgKind.DEALER: DEALER_ATTRIBUTE,
    OrgKind.LENDER: LENDER_ATTRIBUTE,
}
MEMBER_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class HoldReason(StrEnum):
    """Why an organisation holds a vehicle ("alarm"): the ledger records the reason's code."""

    STOLEN = "stolen"
    VIOLATION = "violation"
    COURT_ORDER = "court_order"
    ADMINISTRATIVE = "administrative"


# Which organisation kind places (and alone lifts) a hold of each reason: HPG reports a
# vehicle stolen and lifts it when recovered; the LTO holds for an unsettled violation, a
# court order or an administrative reason.
HOLD_PLACERS: dict[str, str] = {
    HoldReason.STOLEN: OrgKind.HPG,
    HoldReason.VIOLATION: OrgKind.LTO,
    HoldReason.COURT_ORDER: OrgKind.LTO,
    HoldReason.ADMINISTRATIVE: OrgKind.LTO,
}


# Which organisation kind signs each clearance kind's claims and decisions (the LTO, the
# registrar, opens and cancels every kind). Data the contract reads, not code: a new clearance
# kind on Fabric is a chaincode upgrade with one more entry here, or a deployment's
# TALAAN_CLEARANCE_SIGNERS environment variable (a JSON object replacing this one), read when a
# call needs it. The app's kinds (clearance/kinds/) must say the same; its checks compare them.
DEFAULT_CLEARANCE_SIGNERS: dict[str, str] = {
    "HPG": OrgKind.HPG,
    "INSURANCE": OrgKind.INSURANCE,
    "EMISSION": OrgKind.EMISSION,
    # The lender's consent to the transfer of a vehicle it holds a mortgage on.
    "LENDER": OrgKind.LENDER,
}


def clearance_signers() -> dict[str, str]:
    """Return the clearance-kind-to-signing-organisation-kind map in force for this process."""
    override = os.environ.get("TALAAN_CLEARANCE_SIGNERS")
    if not override:
        return DEFAULT_CLEARANCE_SIGNERS
    parsed = json.loads(override)
    return {str(kind): OrgKind(signer) for kind, signer in parsed.items()}


class ClearanceStatus(StrEnum):
    PENDING = "pending"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    CANCELLED = "cancelled"


# "" stands for "no request yet": opening a request is the move "" -> pending.
NEW = ""

# Who may make each move: the registrar (LTO) or the organisation the request is for.
REGISTRAR = "registrar"
CLEARER = "clearer"

CLEARANCE_TRANSITIONS: dict[tuple[str, str], str] = {
    (NEW, ClearanceStatus.PENDING): REGISTRAR,
    (ClearanceStatus.PENDING, ClearanceStatus.IN_REVIEW): CLEARER,
    (ClearanceStatus.IN_REVIEW, ClearanceStatus.APPROVED): CLEARER,
    (ClearanceStatus.IN_REVIEW, ClearanceStatus.REJECTED): CLEARER,
    (ClearanceStatus.IN_REVIEW, ClearanceStatus.RETURNED): CLEARER,
    # The owner's corrections are filed through the LTO, which signs the resubmission.
    (ClearanceStatus.RETURNED, ClearanceStatus.PENDING): REGISTRAR,
    (ClearanceStatus.PENDING, ClearanceStatus.CANCELLED): REGISTRAR,
    (ClearanceStatus.IN_REVIEW, ClearanceStatus.CANCELLED): REGISTRAR,
    (ClearanceStatus.RETURNED, ClearanceStatus.CANCELLED): REGISTRAR,
}

CLEARANCE_DECISIONS = (
    ClearanceStatus.APPROVED,
    ClearanceStatus.REJECTED,
    ClearanceStatus.RETURNED,
)
CLEARANCE_OPEN = (ClearanceStatus.PENDING, ClearanceStatus.IN_REVIEW, ClearanceStatus.RETURNED)


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    AWAITING_CLEARANCES = "awaiting_clearances"
    CLEARED = "cleared"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


_A = ApplicationStatus
APPLICATION_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (_A.DRAFT, _A.SUBMITTED),
        (_A.DRAFT, _A.CANCELLED),
        (_A.SUBMITTED, _A.UNDER_REVIEW),
        (_A.SUBMITTED, _A.CANCELLED),
        (_A.UNDER_REVIEW, _A.AWAITING_CLEARANCES),
        (_A.UNDER_REVIEW, _A.RETURNED),
        (_A.UNDER_REVIEW, _A.REJECTED),
        (_A.AWAITING_CLEARANCES, _A.CLEARED),
        (_A.AWAITING_CLEARANCES, _A.RETURNED),
        (_A.AWAITING_CLEARANCES, _A.REJECTED),
        (_A.AWAITING_CLEARANCES, _A.CANCELLED),
        (_A.RETURNED, _A.SUBMITTED),
        (_A.RETURNED, _A.AWAITING_CLEARANCES),
        (_A.RETURNED, _A.CANCELLED),
        (_A.CLEARED, _A.APPROVED),
        (_A.CLEARED, _A.REJECTED),
    }
)


# What each action on an application does, from the statuses where it is open: current ->
# target. Pages offer an action only where it is open; every move is one of the transitions
# above (checked below), so the two tables cannot drift apart. Sending for clearance is also
# open while clearances are awaited: it asks the kinds not yet asked, the status stays.
APPLICATION_ACTION_MOVES: dict[str, dict[str, str]] = {
    "submit": {_A.DRAFT: _A.SUBMITTED},
    "resubmit": {_A.RETURNED: _A.SUBMITTED},
    "withdraw": {_A.DRAFT: _A.CANCELLED, _A.SUBMITTED: _A.CANCELLED, _A.RETURNED: _A.CANCELLED},
    "start_review": {_A.SUBMITTED: _A.UNDER_REVIEW},
    "send_for_clearance": {
        _A.UNDER_REVIEW: _A.AWAITING_CLEARANCES,
        _A.AWAITING_CLEARANCES: _A.AWAITING_CLEARANCES,
    },
    "return": {_A.UNDER_REVIEW: _A.RETURNED},
    "approve_registration": {_A.CLEARED: _A.APPROVED},
    "reject_registration": {
        _A.UNDER_REVIEW: _A.REJECTED,
        _A.AWAITING_CLEARANCES: _A.REJECTED,
        _A.CLEARED: _A.REJECTED,
    },
}


def check_action_moves(
    moves: dict[str, dict[str, str]], transitions: frozenset[tuple[str, str]]
) -> None:
    """Refuse an action table with a move the transitions do not have (staying is no move)."""
    for action, by_status in moves.items():
        for current, target in by_status.items():
            if current != target and (current, target) not in transitions:
                raise ValueError(
                    f"{action}: {_label(current)} -> {_label(target)} is not an application "
                    "transition."
                )


def application_action_open(action: str, current: str) -> bool:
    """Whether ``action`` can be taken on an application that is ``current``."""
    return current in APPLICATION_ACTION_MOVES.get(action, {})


def check_application_transition(current: str, target: str) -> None:
    """Raise TransitionNotAllowed unless the application may move from current to target."""
    if (current, target) not in APPLICATION_TRANSITIONS:
        raise TransitionNotAllowed(
            f"An application that is {_label(current)} cannot become {_label(target)}.",
            reason="APPLICATION_TRANSITION_NOT_ALLOWED",
            params={"from": current, "to": target},
        )


def clearance_actor_role(current: str, target: str) -> str:
    """Return who may make this clearance move (REGISTRAR or CLEARER), or refuse the move."""
    try:
        return CLEARANCE_TRANSITIONS[(current, target)]
    except KeyError:
        raise TransitionNotAllowed(
            f"A clearance request that is {_label(current) or 'new'} cannot become "
            f"{_label(target)}.",
            reason="CLEARANCE_TRANSITION_NOT_ALLOWED",
            params={"from": current or "new", "to": target},
        ) from None


def check_clearance_authority(*, kind: str, current: str, target: str, actor_kind: str) -> None:
    """Refuse the move unless an organisation of ``actor_kind`` may make it for ``kind``."""
    signers = clearance_signers()
    if kind not in signers:
        raise RuleViolation(
            f"Unknown clearance kind {kind!r}.",
            reason="UNKNOWN_CLEARANCE_KIND",
            params={"kind": kind},
        )
    role = clearance_actor_role(current, target)
    allowed = OrgKind.LTO if role == REGISTRAR else signers[kind]
    if actor_kind != allowed:
        raise NotAuthorised(
            f"Only {allowed} may move a {kind} clearance from {_label(current) or 'new'} "
            f"to {_label(target)}; the caller acts for {actor_kind or 'no known organisation'}.",
            reason="CLEARANCE_SIGNER_NOT_ALLOWED",
            params={
                "allowed": allowed,
                "kind": kind,
                "from": current or "new",
                "to": target,
                "caller": actor_kind,
            },
        )


def _label(status: str) -> str:
    return status.replace("_", " ")


# Which organisation kind each Fabric MSP signs for. The chaincode learns the caller's MSP from
# the transaction's creator, never from arguments. Deployments can name their MSPs differently
# with the TALAAN_MSP_KINDS environment variable (a JSON object), read when a call needs it.
DEFAULT_MSP_KINDS: dict[str, str] = {
    "LTOMSP": OrgKind.LTO,
    "HPGMSP": OrgKind.HPG,
    "InsuranceMSP": OrgKind.INSURANCE,
    "EmissionMSP": OrgKind.EMISSION,
    "DealerMSP": OrgKind.DEALER,
    "LenderMSP": OrgKind.LENDER,
}


def msp_kinds() -> dict[str, str]:
    """Return the MSP-id-to-organisation-kind map in force for this process."""
    override = os.environ.get("TALAAN_MSP_KINDS")
    if not override:
        return DEFAULT_MSP_KINDS
    parsed = json.loads(override)
    return {str(msp): OrgKind(kind) for msp, kind in parsed.items()}


# A table that names a move the workflow does not have stops the app (and the chaincode) from
# starting, rather than offering a button the services would refuse.
check_action_moves(APPLICATION_ACTION_MOVES, APPLICATION_TRANSITIONS)
