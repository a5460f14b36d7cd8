"""A recorded status change said in plain words: "HPG check started", not "pending → in review".

The owner reads the history of their application; what the ledger recorded (the statuses, the
transaction, its entry) stays one click away in the receipt beside each line. LTO staff and
officers read the same sentences first.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def _application_sentence(from_status: str, to_status: str) -> str:
    if to_status == "submitted":
        if from_status == "returned":
            return _("Filed again with corrections")
        return _("Filed with the LTO")
    sentences = {
        "draft": _("Application started"),
        "under_review": _("The LTO started reviewing it"),
        "awaiting_clearances": _("Sent for the clearance checks"),
        "cleared": _("Every clearance check passed"),
        "approved": _("Registration approved"),
        "returned": _("Returned to the owner for corrections"),
        "rejected": _("Registration refused"),
        "cancelled": _("Application withdrawn"),
    }
    return sentences.get(to_status, to_status.replace("_", " "))


@register.simple_tag
def application_event(change: Any) -> str:
    """``{% application_event change %}``: what happened to the application, plainly."""
    return _application_sentence(change.from_status or "", change.to_status)


def _clearance_sentence(kind: str, organisation: str, from_status: str, to_status: str) -> str:
    names = {"kind": kind, "organisation": organisation}
    if to_status == "pending":
        if from_status == "in_review":
            return _("%(kind)s check released: waiting for another officer") % names
        if from_status == "returned":
            return _("%(kind)s check sent again to %(organisation)s") % names
        return _("Sent to %(organisation)s for the %(kind)s check") % names
    sentences = {
        "in_review": _("%(kind)s check started by %(organisation)s"),
        "approved": _("%(kind)s check passed"),
        "rejected": _("%(kind)s check failed"),
        "returned": _("%(kind)s check returned for corrections"),
        "cancelled": _("%(kind)s check cancelled by the LTO"),
    }
    return sentences.get(to_status, "%(kind)s: " + to_status.replace("_", " ")) % names


@register.simple_tag
def clearance_event(change: Any, request: Any) -> str:
    """``{% clearance_event change request %}``: what happened to a clearance check, plainly
    (``request`` is the change's clearance request, already on the page)."""
    return _clearance_sentence(
        request.get_kind_display(),
        request.organisation.name,
        change.from_status or "",
        change.to_status,
    )
