"""The lender's consent to the transfer of a vehicle it holds a chattel mortgage on.

Needed by a transfer only while the vehicle is encumbered, and asked of the lender whose
mortgage it carries (not any lender); that lender's officers decide it in the clearance queue,
and the chaincode takes the decision only from that lender's identity. Approving it names the
mortgage consented for; the mortgage stays annotated on the vehicle (the buyer takes the
vehicle with it) until the lender releases it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from chaincode.rules import OrgKind
from clearance.forms import DecisionForm
from clearance.kinds import ClearanceKind, register
from clearance.models import ClearanceRequest
from registry.models import RegistrationApplication
from registry.mortgages import LENDER_CLEARANCE, active_mortgage


@dataclass(frozen=True)
class LenderConsent:
    mortgage_reference: str


def save_findings(request: ClearanceRequest, consent: LenderConsent, approving: bool) -> None:
    mortgage = active_mortgage(request.application.vehicle_id)
    given = consent.mortgage_reference.strip().upper()
    if approving and (mortgage is None or given != mortgage.reference):
        raise ValidationError(
            {
                "mortgage_reference": _(
                    "Give the reference of the mortgage this vehicle carries in your favour."
                )
            }
        )
    # Nothing else to keep: the ledger records the decision, signed by the lender.


class LenderDecisionForm(DecisionForm):
    mortgage_reference = forms.CharField(
        label=_("Mortgage reference"),
        max_length=16,
        help_text=_("The mortgage on this vehicle (MTG-…) you consent for."),
    )

    def findings(self) -> LenderConsent:
        return LenderConsent(mortgage_reference=self.cleaned_data["mortgage_reference"])


class LenderConsentSerializer(serializers.Serializer):
    mortgage_reference = serializers.CharField(max_length=16)


def _encumbered(application: RegistrationApplication) -> bool:
    return active_mortgage(application.vehicle_id) is not None


def _mortgage_lender(application: RegistrationApplication) -> int | None:
    mortgage = active_mortgage(application.vehicle_id)
    return mortgage.lender_id if mortgage is not None else None


def _initial(request: ClearanceRequest) -> dict[str, Any]:
    mortgage = active_mortgage(request.application.vehicle_id)
    return {"mortgage_reference": mortgage.reference if mortgage else ""}


def example(request: ClearanceRequest) -> LenderConsent:
    return LenderConsent(**_initial(request))


LENDER = register(
    ClearanceKind(
        code=LENDER_CLEARANCE,
        label=_("Lender's consent"),
        sent_to=_("the lender"),
        signed_by=OrgKind.LENDER,
        findings=LenderConsent,
        save_findings=save_findings,
        form=LenderDecisionForm,
        serializer=LenderConsentSerializer,
        sla_hours=72,
        initial=_initial,
        example=example,
        needed_for=_encumbered,
        routed_to=_mortgage_lender,
    )
)
