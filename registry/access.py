"""What a caller may do to an application: the one answer services, pages and the API use.

Who may see an application at all is the funnel in ``registry.selectors`` (404 for anyone
else). Here: which actions the caller's role permits on a visible application
(``permitted_actions``: a service refuses anything else with 403), and which of those are
open in its status now (``allowed_actions``: what the page offers). Where an action is open
comes from ``chaincode.rules``, never from here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chaincode.rules import (
    APPLICATION_ACTION_MOVES,
    ApplicationStatus,
    application_action_open,
)
from kernel.errors import PermissionDenied
from kernel.i18n import Message
from organisations.access import Action, Caller
from organisations.selectors import lto_organisation
from registry.models import Mortgage, RegistrationApplication, Vehicle

OWNER_ACTIONS = frozenset(
    {
        Action.SUBMIT,
        Action.RESUBMIT,
        Action.WITHDRAW,
        Action.CORRECT_VEHICLE,
        Action.UPLOAD_DOCUMENT,
        Action.DOWNLOAD_CERTIFICATE,
    }
)
LTO_ACTIONS = frozenset(
    {
        Action.START_REVIEW,
        Action.SEND_FOR_CLEARANCE,
        Action.RETURN,
        Action.APPROVE_REGISTRATION,
        Action.REJECT_REGISTRATION,
        Action.UPLOAD_DOCUMENT,
        Action.DOWNLOAD_CERTIFICATE,
    }
)
# The owner may correct the vehicle while the application is in their hands.
_CORRECTABLE = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.RETURNED})
# The owner adds papers until the LTO decides (a cleared application waits for its decision);
# LTO staff may add them at any stage.
OWNER_MAY_UPLOAD = frozenset(
    {
        ApplicationStatus.DRAFT,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.AWAITING_CLEARANCES,
        ApplicationStatus.RETURNED,
    }
)


def is_seller(caller: Caller, application: RegistrationApplication) -> bool:
    """Whether the caller sells the vehicle of this (transfer) application, while it is open.

    The seller never sees the buyer's application; they add the papers a seller files (the
    deed of sale) from their sale's page.
    """
    if caller.api_key is not None or application.type != RegistrationApplication.Type.TRANSFER:
        return False
    sale = getattr(application, "sale", None)
    return sale is not None and sale.status == "accepted" and sale.seller_id == caller.user_id


def permitted_actions(caller: Caller, application: RegistrationApplication) -> set[Action]:
    """What the caller's role lets them do to this application, whatever its status."""
    actions: set[Action] = set()
    if caller.api_key is None and caller.user_id == application.applicant_id:
        actions |= OWNER_ACTIONS
    elif is_seller(caller, application):
        actions.add(Action.UPLOAD_DOCUMENT)
    if caller.is_lto_staff:
        actions |= LTO_ACTIONS
    return caller.scoped(actions)


def is_open(
    action: Action, application: RegistrationApplication, caller: Caller | None = None
) -> bool:
    """Whether the action can be taken on the application in its status now (by LTO staff,
    when the caller is, for the actions they may take at any stage)."""
    status = application.status
    if action in APPLICATION_ACTION_MOVES:
        return application_action_open(action, status)
    if action == Action.CORRECT_VEHICLE:
        return status in _CORRECTABLE
    if action == Action.UPLOAD_DOCUMENT:
        return (caller is not None and caller.is_lto_staff) or status in OWNER_MAY_UPLOAD
    if action == Action.DOWNLOAD_CERTIFICATE:
        return status == ApplicationStatus.APPROVED
    return True


def allowed_actions(caller: Caller, application: RegistrationApplication) -> set[Action]:
    """What the caller may do to the application now: permitted, and open in its status."""
    return {
        action
        for action in permitted_actions(caller, application)
        if is_open(action, application, caller)
    }


def require(caller: Caller, application: RegistrationApplication, action: Action) -> None:
    """Refuse (403) an action the caller's role does not permit; the workflow rules refuse a
    permitted one that is not open (409), so each refusal says what is wrong."""
    if action in permitted_actions(caller, application):
        return
    if action in OWNER_ACTIONS and action not in LTO_ACTIONS:
        raise PermissionDenied(_("Only the applicant can do this."))
    raise PermissionDenied(_("Only LTO staff can do this."))


def vehicle_permitted_actions(caller: Caller) -> set[Action]:
    """What the caller's role lets them do to a vehicle itself: LTO staff deregister (a key
    only for the LTO, with a scope that allows it)."""
    if not caller.is_lto_staff or not caller.within_limit(lto_organisation().pk):
        return set()
    return caller.scoped({Action.DEREGISTER})


def vehicle_allowed_actions(caller: Caller, vehicle: Vehicle) -> set[Action]:
    """What the caller may do to the vehicle now: a registered vehicle (an active one with a
    valid CR) not yet deregistered can be deregistered."""
    actions = vehicle_permitted_actions(caller)
    deregistered = Vehicle.objects.filter(pk=vehicle.pk, deregistration__isnull=False).exists()
    registered = vehicle.certificates.filter(status="valid").exists()
    if deregistered or not vehicle.is_active or not registered:
        actions.discard(Action.DEREGISTER)
    return actions


def require_vehicle_action(caller: Caller, action: Action) -> None:
    """Refuse (403) a vehicle action the caller's role does not permit."""
    if action not in vehicle_permitted_actions(caller):
        raise PermissionDenied(_("Only LTO staff deregister vehicles."))


def mortgage_permitted_actions(caller: Caller, mortgage: Mortgage) -> set[Action]:
    """What the caller's role lets them do to a mortgage: its lender's officers withdraw and
    release it (a key of that lender too, with a write scope); the owner asked answers it."""
    actions: set[Action] = set()
    if mortgage.lender_id in caller.lender_ids:
        actions |= caller.scoped({Action.WITHDRAW_MORTGAGE, Action.RELEASE_MORTGAGE})
    if caller.api_key is None and caller.user_id == mortgage.owner_id:
        actions.add(Action.CONSENT_MORTGAGE)
    return actions


_MORTGAGE_OPEN = {
    Action.WITHDRAW_MORTGAGE: "proposed",
    Action.CONSENT_MORTGAGE: "proposed",
    Action.RELEASE_MORTGAGE: "annotated",
}


def mortgage_allowed_actions(caller: Caller, mortgage: Mortgage) -> set[Action]:
    """What the caller may do to the mortgage now: permitted, and open in its status."""
    return {
        action
        for action in mortgage_permitted_actions(caller, mortgage)
        if _MORTGAGE_OPEN.get(action) == mortgage.status
    }


def require_mortgage_action(caller: Caller, mortgage: Mortgage, action: Action) -> None:
    """Refuse (403) what the caller's role does not permit on the mortgage."""
    if action in mortgage_permitted_actions(caller, mortgage):
        return
    if action == Action.CONSENT_MORTGAGE:
        raise PermissionDenied(_("Only the owner the lender asked can answer this mortgage."))
    raise PermissionDenied(
        Message(
            _("Only %(name)s, which holds mortgage %(reference)s, can do this."),
            {"name": mortgage.lender.name, "reference": mortgage.reference},
        )
    )
