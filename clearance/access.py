"""What a caller may do to a clearance request: the one answer services, pages and the API use.

Who may see a request at all is the funnel in ``clearance.selectors`` (404 for anyone else).
Here: which actions the caller's role permits on a visible request (``permitted_actions``: a
service refuses anything else with 403) and which are open in its status now
(``allowed_actions``: what the page offers). Which status each move starts from, and who makes
it, is read from ``chaincode.rules``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chaincode.rules import (
    CLEARANCE_DECISIONS,
    CLEARANCE_OPEN,
    CLEARANCE_TRANSITIONS,
    CLEARER,
    REGISTRAR,
    ClearanceStatus,
)
from clearance.models import ClearanceRequest
from kernel.errors import PermissionDenied
from kernel.i18n import Message
from organisations.access import Action, Caller


def _from_statuses(targets: tuple[str, ...], role: str) -> frozenset[str]:
    return frozenset(
        current
        for (current, target), who in CLEARANCE_TRANSITIONS.items()
        if target in targets and who == role and current
    )


# The statuses each action starts from, as the workflow rules define its moves.
OPEN_FROM: dict[Action, frozenset[str]] = {
    Action.CLAIM: _from_statuses((ClearanceStatus.IN_REVIEW,), CLEARER),
    Action.DECIDE: _from_statuses(CLEARANCE_DECISIONS, CLEARER),
    Action.CANCEL_CLEARANCE: _from_statuses((ClearanceStatus.CANCELLED,), REGISTRAR),
    # Evidence is added while the request is open and after its decision too (a late
    # report, a photo taken at the inspection): it is filed with who and when, and changes
    # no decision. A cancelled request takes none.
    Action.UPLOAD_DOCUMENT: frozenset(CLEARANCE_OPEN) | frozenset(CLEARANCE_DECISIONS),
}
OFFICER_ACTIONS = frozenset({Action.CLAIM, Action.DECIDE, Action.UPLOAD_DOCUMENT})
LTO_ACTIONS = frozenset({Action.CANCEL_CLEARANCE})


def permitted_actions(caller: Caller, request: ClearanceRequest) -> set[Action]:
    """What the caller's role lets them do to this request, whatever its status: its
    organisation's officers work on it, LTO staff may withdraw it."""
    actions: set[Action] = set()
    if caller.acts_for(request.organisation_id):
        actions |= OFFICER_ACTIONS
    if caller.is_lto_staff:
        actions |= LTO_ACTIONS
    return caller.scoped(actions)


def allowed_actions(caller: Caller, request: ClearanceRequest) -> set[Action]:
    """What the caller may do to the request now: permitted, and open in its status."""
    return {
        action
        for action in permitted_actions(caller, request)
        if action not in OPEN_FROM or request.status in OPEN_FROM[action]
    }


def require(caller: Caller, request: ClearanceRequest, action: Action) -> None:
    """Refuse (403) an action the caller's role does not permit; the workflow rules refuse a
    permitted one that is not open (409)."""
    if action in permitted_actions(caller, request):
        return
    if action in LTO_ACTIONS:
        raise PermissionDenied(_("Only LTO staff can do this."))
    raise PermissionDenied(
        Message(_("You do not act for %(name)s."), {"name": request.organisation.name})
    )
