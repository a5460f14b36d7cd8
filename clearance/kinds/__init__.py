"""The clearance kinds: one module per kind in this package, each registering itself once.

A kind says everything the app needs to know about it — its findings and their rules, its
decision form and API serializer, its fragment on the decision page, its service level, its
evidence and the organisation kind that signs it — and the rest of the app iterates this
registry, so a new kind is a new module here (and its entry in the chaincode's signers),
never an edit of the code that handles the others.

Every module of this package is imported the first time the registry is read, so dropping
``clearance/kinds/<kind>.py`` in place is the whole of registering it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kernel.i18n import Message

if TYPE_CHECKING:
    from django.contrib import admin
    from django.db import models
    from django.urls import URLPattern
    from rest_framework import serializers

    from clearance.forms import DecisionForm
    from clearance.models import ClearanceRequest
    from registry.models import RegistrationApplication

F = TypeVar("F")


def _nothing(request: ClearanceRequest) -> dict[str, Any]:
    return {}


def _always(application: RegistrationApplication) -> bool:
    return True


def _any_of_the_kind(application: RegistrationApplication) -> int | None:
    return None


@dataclass(frozen=True)
class ClearanceKind(Generic[F]):
    """One kind of clearance, as the app handles it from request to decision."""

    code: str  # what requests, requirements and the ledger store, e.g. "HPG"
    label: str | Promise
    # The organisation kind (chaincode.rules.OrgKind) asked to clear it and signing its
    # decisions; the chaincode reads the same fact from its own data (clearance_signers).
    signed_by: str
    findings: type[F]  # the dataclass a decision files
    # Checks findings against the request and the rules (approving or not) and stores them;
    # raises ValidationError naming the fields.
    save_findings: Callable[[ClearanceRequest, F, bool], None]
    form: type[DecisionForm]  # the decision page's form
    serializer: type[serializers.Serializer]  # the API's findings object
    sla_hours: int  # hours to decide, unless settings.CLEARANCE_SLA_HOURS says otherwise
    # Its findings on the decision page, inside the form: by default just its form's fields.
    template: str = "clearance/kinds/_fields.html"
    # Document types (registry's Document.Type values) filed as evidence for it, first the usual.
    evidence: tuple[str, ...] = ()
    # The decision form's starting values and the fragment's extra context, for a request.
    initial: Callable[[ClearanceRequest], dict[str, Any]] = _nothing
    context: Callable[[ClearanceRequest], dict[str, Any]] = _nothing
    # Findings that approve the request, for the demo data.
    example: Callable[[ClearanceRequest], F] | None = None
    # The admin pages of its models (its findings, read-only; any reference data it keeps).
    admins: tuple[tuple[type[models.Model], type[admin.ModelAdmin]], ...] = ()
    urls: tuple[URLPattern, ...] = ()  # pages of its own, such as a live check
    # Who a person is told the request goes to ("Send to Emission testing"); else the label.
    sent_to: str | Promise = ""
    # Whether an application of a type that requires the kind (ClearanceRequirement) needs
    # it: most kinds always; a lender's consent only when the vehicle is encumbered.
    needed_for: Callable[[RegistrationApplication], bool] = _always
    # The organisation that must clear it for an application (its id), when it is not any
    # active organisation of the signing kind: the lender whose mortgage the vehicle carries.
    routed_to: Callable[[RegistrationApplication], int | None] = _any_of_the_kind

    def __str__(self) -> str:
        return str(self.label)

    @property
    def sla(self) -> int:
        """Hours the organisation has to decide: the setting's override, else the default."""
        return int(settings.CLEARANCE_SLA_HOURS.get(self.code, self.sla_hours))


class UnknownKind(LookupError):
    """No installed module registers this clearance kind."""


_registry: dict[str, ClearanceKind[Any]] = {}
_discovered = False


def _discover() -> None:
    """Import every kind module of this package once; each registers its kind."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def register(kind: ClearanceKind[F]) -> ClearanceKind[F]:
    """Add a kind; a second kind with the same code is a mistake, not an override."""
    _discover()
    if kind.code in _registry:
        raise ValueError(f"Clearance kind {kind.code} is registered already.")
    _registry[kind.code] = kind
    return kind


def unregister(code: str) -> None:
    """Remove a kind (for tests that register one of their own)."""
    _registry.pop(code, None)


def kinds() -> list[ClearanceKind[Any]]:
    """Every registered kind, in code order (the order requests are listed in)."""
    _discover()
    return [_registry[code] for code in sorted(_registry)]


def kind(code: str) -> ClearanceKind[Any]:
    """The kind with this code; UnknownKind when none is registered."""
    _discover()
    try:
        return _registry[code]
    except KeyError:
        raise UnknownKind(
            Message(_("No clearance kind %(code)s is installed."), {"code": repr(code)})
        ) from None


def choices() -> list[tuple[str, str | Promise]]:
    """The model fields' choices: a callable, so a new kind needs no migration."""
    return [(k.code, k.label) for k in kinds()]
