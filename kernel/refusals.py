"""The workflow's refusals (``chaincode.rules.RuleViolation``) in the reader's language.

The chaincode says no with a stable reason and its parameters; the app, not the chaincode,
words it for people. In English the chaincode's own sentence is shown as it is (integrators
and tests rely on it); in another language the reason's template here, with statuses and
the like translated too. A reason missing here falls back to the chaincode's sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    # Only for the checker: django-stubs-ext is a development dependency.
    from django_stubs_ext import StrPromise

REFUSALS: dict[str, StrPromise] = {
    "APPLICATION_TRANSITION_NOT_ALLOWED": _(
        "An application that is %(from)s cannot become %(to)s."
    ),
    "CLEARANCE_TRANSITION_NOT_ALLOWED": _(
        "A clearance request that is %(from)s cannot become %(to)s."
    ),
    "UNKNOWN_CLEARANCE_KIND": _("Unknown clearance kind %(kind)s."),
    "CLEARANCE_SIGNER_NOT_ALLOWED": _(
        "Only %(allowed)s may move a %(kind)s clearance from %(from)s to %(to)s; the caller "
        "acts for %(caller)s."
    ),
    "KEY_WITHOUT_IDENTIFIER": _("A ledger record needs an identifier."),
    "INVALID_VALUE": _("%(what)s %(value)s is not valid."),
    "NO_TIMESTAMP": _("The transaction carries no timestamp."),
    "MEMBER_KIND_REQUIRED": _("Only a %(kind)s may do this; %(caller)s cannot."),
    "CERTIFICATE_NAMES_NO_MEMBER": _(
        "The %(caller)s certificate names no %(kind)s (attribute %(attribute)s)."
    ),
    "VEHICLE_ON_HOLD": _(
        "Vehicle %(vin)s is on hold (%(holds)s); it cannot be %(doing)s until the hold is lifted."
    ),
    "ORIGIN_ALREADY_RECORDED": _("Vehicle %(vin)s already has an origin record."),
    "ORIGIN_AFTER_REGISTRATION": _(
        "Vehicle %(vin)s is already on the ledger; an origin is recorded before its first "
        "registration."
    ),
    "LTO_ONLY_REGISTERS": _("Only the LTO registers vehicles; %(caller)s cannot."),
    "VEHICLE_DEREGISTERED_FOR_GOOD": _(
        "Vehicle %(vin)s was deregistered (%(reason)s); a deregistered VIN is never "
        "registered again."
    ),
    "OWNER_CHANGE_NEEDS_TRANSFER": _(
        "Vehicle %(vin)s has another owner on the ledger; a change of owner is recorded with "
        "a transfer of ownership."
    ),
    "LTO_ONLY_TRANSFERS": _("Only the LTO records a change of owner; %(caller)s cannot."),
    "TRANSFER_NEEDS_NEW_OWNER": _("A transfer of vehicle %(vin)s needs a new owner."),
    "VEHICLE_NOT_REGISTERED": _("Vehicle %(vin)s is not registered on the ledger."),
    "DEREGISTERED_CANNOT_CHANGE_OWNER": _(
        "Vehicle %(vin)s was deregistered; it cannot change owner."
    ),
    "SELLER_NOT_OWNER": _(
        "Vehicle %(vin)s's owner on the ledger is not the seller of this transfer."
    ),
    "INVALID_DEREGISTRATION_REASON": _("Deregistration reason %(reason)s is not valid."),
    "LTO_ONLY_DEREGISTERS": _("Only the LTO deregisters vehicles; %(caller)s cannot."),
    "ALREADY_DEREGISTERED": _("Vehicle %(vin)s is already deregistered."),
    "MORTGAGE_BLOCKS_DEREGISTRATION": _(
        "Vehicle %(vin)s carries an active mortgage; its lender releases it before the "
        "vehicle is deregistered."
    ),
    "CLEARANCE_MISMATCH": _("Clearance %(clearance)s belongs to another vehicle or kind."),
    "CLEARANCE_STATUS_DIFFERS": _(
        "Clearance %(clearance)s is %(ledger_status)s on the ledger, not %(from)s."
    ),
    "LENDER_DOES_NOT_HOLD_MORTGAGE": _(
        "Only the lender holding the mortgage on vehicle %(vin)s decides its %(kind)s "
        "clearance; %(member)s does not hold it."
    ),
    "INVALID_HOLD_REASON": _("Hold reason %(reason)s is not valid."),
    "HOLD_PLACER_NOT_ALLOWED": _("Only %(allowed)s places a %(reason)s hold; %(caller)s cannot."),
    "HOLD_ALREADY_RECORDED": _("Hold %(hold)s is already on the ledger."),
    "HOLD_LIFTER_NOT_ALLOWED": _(
        "Only %(allowed)s, which placed hold %(hold)s, lifts it; %(caller)s cannot."
    ),
    "HOLD_ALREADY_LIFTED": _("Hold %(hold)s is already lifted."),
    "MORTGAGE_ALREADY_RECORDED": _("Mortgage %(mortgage)s is already on the ledger."),
    "ALREADY_MORTGAGED": _("Vehicle %(vin)s already carries an active mortgage."),
    "MORTGAGE_RELEASER_NOT_ALLOWED": _(
        "Only %(allowed)s, which annotated mortgage %(mortgage)s, releases it; %(caller)s cannot."
    ),
    "MORTGAGE_ALREADY_RELEASED": _("Mortgage %(mortgage)s is already released."),
    "UNKNOWN_ORGANISATION": _("%(caller)s is not a Talaan organisation."),
    "DOCUMENT_ALREADY_ANCHORED": _("Document %(document)s is already anchored."),
    "NOT_ON_LEDGER": _("%(what)s is not on the ledger."),
}

# The statuses a refusal names (application and clearance statuses share some words).
STATUSES: dict[str, StrPromise] = {
    "new": pgettext_lazy("status", "new"),
    "": pgettext_lazy("status", "not opened"),
    "draft": pgettext_lazy("status", "draft"),
    "submitted": pgettext_lazy("status", "submitted"),
    "under_review": pgettext_lazy("status", "under review"),
    "awaiting_clearances": pgettext_lazy("status", "awaiting clearances"),
    "cleared": pgettext_lazy("status", "cleared"),
    "approved": pgettext_lazy("status", "approved"),
    "returned": pgettext_lazy("status", "returned"),
    "rejected": pgettext_lazy("status", "rejected"),
    "cancelled": pgettext_lazy("status", "cancelled"),
    "pending": pgettext_lazy("status", "pending"),
    "in_review": pgettext_lazy("status", "in review"),
}

# What a held vehicle cannot be (the chaincode's words for it).
DOINGS: dict[str, StrPromise] = {
    "registered or renewed": _("registered or renewed"),
    "transferred": _("transferred"),
    "deregistered": _("deregistered"),
    "cleared": _("cleared"),
    "renewed": _("renewed"),
    "sold": _("sold"),
}

_STATUS_PARAMS = ("from", "to", "ledger_status")
_UNKNOWN_CALLER = _("an unknown caller")
REASON_WORDS: dict[str, StrPromise] = {
    "stolen": pgettext_lazy("hold", "stolen"),
    "violation": pgettext_lazy("hold", "violation"),
    "court_order": pgettext_lazy("hold", "court order"),
    "administrative": pgettext_lazy("hold", "administrative"),
    "scrapped": pgettext_lazy("deregistration", "scrapped"),
    "exported": pgettext_lazy("deregistration", "exported"),
    "total_loss": pgettext_lazy("deregistration", "total loss"),
}


def _localised(params: Mapping[str, str]) -> dict[str, str]:
    values = dict(params)
    for key in _STATUS_PARAMS:
        if key in values and values[key] in STATUSES:
            values[key] = str(STATUSES[values[key]])
    if "doing" in values and values["doing"] in DOINGS:
        values["doing"] = str(DOINGS[values["doing"]])
    if "reason" in values and values["reason"] in REASON_WORDS:
        values["reason"] = str(REASON_WORDS[values["reason"]])
    if "caller" in values and not values["caller"]:
        values["caller"] = str(_UNKNOWN_CALLER)
    return values


def refusal_text(*, reason: str, params: Mapping[str, str], sentence: str) -> str:
    """The refusal as people read it in the active language (the chaincode's own sentence in
    English, or when this app does not know the reason)."""
    template = REFUSALS.get(reason)
    language = translation.get_language() or "en"
    if template is None or language.split("-")[0] == "en":
        return sentence
    try:
        text = str(template) % _localised(params)
    except (KeyError, TypeError, ValueError):
        # A chaincode newer than this app, with other parameters: its own words still help.
        return sentence
    # A translation may open with a parameter ("tinanggihan ang clearance ..."): a sentence.
    return text[:1].upper() + text[1:]
