"""Who is asking, and the words for what they may do: the one access funnel's vocabulary.

A ``Caller`` is a person in a browser session, or an organisation's API key acting as the
person who created it, limited to that organisation and the key's scopes. Each domain app
answers ``allowed_actions(caller, obj) -> set[Action]`` for its own objects (its
``access.py``); services enforce the answer, templates draw their buttons from it and the API
checks a key's scopes through it. Nothing else decides a permission.
"""

from __future__ import annotations

import enum
from functools import cached_property
from typing import Any

from django.utils.translation import gettext_lazy as _

from chaincode.rules import OrgKind
from kernel.auth import AnyUser
from kernel.errors import PermissionDenied
from organisations.models import ApiKey, Membership, Organisation
from organisations.selectors import memberships_of


class Action(enum.StrEnum):
    VIEW = "view"
    # An application, by its owner.
    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    CORRECT_VEHICLE = "correct_vehicle"
    UPLOAD_DOCUMENT = "upload_document"
    DOWNLOAD_CERTIFICATE = "download_certificate"
    # An application, by LTO staff.
    START_REVIEW = "start_review"
    SEND_FOR_CLEARANCE = "send_for_clearance"
    RETURN = "return"
    APPROVE_REGISTRATION = "approve_registration"
    REJECT_REGISTRATION = "reject_registration"
    # A vehicle, by LTO staff.
    DEREGISTER = "deregister"
    # An official receipt: its payer and LTO staff reprint it; LTO staff void it.
    REPRINT_RECEIPT = "reprint_receipt"
    VOID_RECEIPT = "void_receipt"
    # A hold on a VIN, by officers of the organisation kind its reason belongs to.
    PLACE_HOLD = "place_hold"
    LIFT_HOLD = "lift_hold"
    # A chattel mortgage: its lender proposes, withdraws and releases it; the owner answers.
    PROPOSE_MORTGAGE = "propose_mortgage"
    WITHDRAW_MORTGAGE = "withdraw_mortgage"
    RELEASE_MORTGAGE = "release_mortgage"
    CONSENT_MORTGAGE = "consent_mortgage"
    # A clearance request.
    CLAIM = "claim"
    DECIDE = "decide"
    CANCEL_CLEARANCE = "cancel_clearance"
    # A dealer's origin records and their sale invitations, by its officers.
    RECORD_ORIGIN = "record_origin"
    # An organisation, by its admins (or LTO staff).
    MANAGE_OFFICERS = "manage_officers"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_WEBHOOKS = "manage_webhooks"


# What each API key scope lets a key do; a person in a session is not limited by scopes.
SCOPE_ACTIONS: dict[str, frozenset[Action]] = {
    ApiKey.Scope.READ: frozenset({Action.VIEW}),
    # The keys' write scope: claims and decisions (an LTO key's deregistrations among them, a
    # lender key's mortgages), holds, a dealer's origin records and their sale invitations, and
    # the organisation's webhooks.
    ApiKey.Scope.DECIDE: frozenset(
        {
            Action.VIEW,
            Action.CLAIM,
            Action.DECIDE,
            Action.DEREGISTER,
            Action.RECORD_ORIGIN,
            Action.PLACE_HOLD,
            Action.LIFT_HOLD,
            Action.PROPOSE_MORTGAGE,
            Action.WITHDRAW_MORTGAGE,
            Action.RELEASE_MORTGAGE,
            Action.MANAGE_WEBHOOKS,
        }
    ),
}


def scope_for(action: Action) -> str:
    """The narrowest key scope that allows the action, to tell a key what it lacks."""
    return next(
        (scope for scope, actions in SCOPE_ACTIONS.items() if action in actions),
        ApiKey.Scope.DECIDE,
    )


class Caller:
    """A person, or an API key acting as its creator for its organisation only.

    Memberships are read once per caller, so asking several questions of one caller costs
    one query.
    """

    def __init__(self, user: AnyUser, api_key: ApiKey | None = None) -> None:
        self.user = user
        self.api_key = api_key

    @classmethod
    def of(cls, request: Any) -> Caller:
        """The caller of a Django or DRF request (``request.auth`` holds a key, if any)."""
        auth = getattr(request, "auth", None)
        return cls(request.user, auth if isinstance(auth, ApiKey) else None)

    def __repr__(self) -> str:
        via = f" via key {self.api_key.prefix}" if self.api_key else ""
        return f"<Caller {self.user}{via}>"

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user.is_authenticated)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.is_authenticated else None

    @property
    def organisation_limit(self) -> int | None:
        """The one organisation a key acts for; None for a person in a session."""
        return self.api_key.organisation_id if self.api_key else None

    @cached_property
    def memberships(self) -> tuple[Membership, ...]:
        return tuple(memberships_of(self.user))

    @cached_property
    def is_lto_staff(self) -> bool:
        return any(m.organisation.kind == OrgKind.LTO for m in self.memberships)

    @cached_property
    def lender_ids(self) -> frozenset[int]:
        """The lenders the person is an officer of (whatever a key limits them to)."""
        return frozenset(
            m.organisation_id
            for m in self.memberships
            if m.organisation.kind == OrgKind.LENDER and self.within_limit(m.organisation_id)
        )

    @cached_property
    def organisation_ids(self) -> frozenset[int]:
        """The organisations the person acts for (whatever a key limits them to)."""
        return frozenset(m.organisation_id for m in self.memberships)

    def acts_for(self, organisation_id: int) -> bool:
        return organisation_id in self.organisation_ids and self.within_limit(organisation_id)

    def administers(self, organisation_id: int) -> bool:
        return any(
            m.organisation_id == organisation_id and m.role == Membership.Role.ADMIN
            for m in self.memberships
        ) and self.within_limit(organisation_id)

    def within_limit(self, organisation_id: int | None) -> bool:
        limit = self.organisation_limit
        return limit is None or organisation_id == limit

    def permits(self, action: Action) -> bool:
        """Whether the key's scopes allow the action (a person's session always does)."""
        if self.api_key is None:
            return True
        return any(action in SCOPE_ACTIONS.get(scope, ()) for scope in self.api_key.scopes)

    def scoped(self, actions: set[Action]) -> set[Action]:
        return {action for action in actions if self.permits(action)}


def allowed_actions(caller: Caller, organisation: Organisation) -> set[Action]:
    """What a person may do to an organisation: its admins manage its officers, keys and
    webhooks; LTO staff manage every organisation's keys, and the LTO's webhooks. A key
    manages nothing here (the API lets a key reach its own organisation's webhooks as its
    creator could, within its scopes)."""
    if not caller.is_authenticated or caller.api_key is not None:
        return set()
    actions: set[Action] = set()
    if caller.administers(organisation.pk):
        actions |= {Action.MANAGE_OFFICERS, Action.MANAGE_API_KEYS, Action.MANAGE_WEBHOOKS}
    if caller.is_lto_staff:
        actions.add(Action.MANAGE_API_KEYS)
        if organisation.kind == OrgKind.LTO and caller.acts_for(organisation.pk):
            actions.add(Action.MANAGE_WEBHOOKS)
    return actions


def unworkable_scopes(issuer: Caller, organisation_id: int) -> dict[str, str]:
    """The scopes a key from ``issuer`` for the organisation could never use, and why.

    A key acts as the person who issues it, so ``decide`` (claims, decisions, webhooks) only
    works when the issuer acts for the organisation; LTO staff may issue any organisation's
    keys, but a decide key from them for another organisation would answer 403 to every write.
    """
    if issuer.acts_for(organisation_id):
        return {}
    return {
        ApiKey.Scope.DECIDE: (
            "A key acts as the person who issues it, and you do not act for this "
            "organisation: a decide key from you could never claim, decide or manage "
            "webhooks. Issue a read key, or ask one of the organisation's admins to issue "
            "the decide key."
        )
    }


def own_organisations_allowing(caller: Caller, action: Action) -> list[int]:
    """The ids of the caller's own organisations on which they may take the action."""
    return [
        m.organisation_id
        for m in caller.memberships
        if action in allowed_actions(caller, m.organisation)
    ]


_REFUSALS = {
    Action.MANAGE_OFFICERS: _("Only the organisation's admins can manage its officers."),
    Action.MANAGE_API_KEYS: _("Only the organisation's admins or LTO staff can manage its keys."),
}


def refusal(action: Action) -> str:
    """What a refused caller is told: who may take the action."""
    return str(_REFUSALS.get(action, _("You are not allowed to do this.")))


def require(caller: Caller, organisation: Organisation, action: Action) -> None:
    if action not in allowed_actions(caller, organisation):
        raise PermissionDenied(refusal(action))
