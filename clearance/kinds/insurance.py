"""Insurance clearance: the compulsory third-party liability (CTPL) certificate of cover."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from chaincode.rules import OrgKind
from clearance.forms import DecisionForm
from clearance.kinds import ClearanceKind, register
from clearance.models import ClearanceRequest, InsuranceClearanceDetail
from kernel.admin import ReadOnlyAdmin
from kernel.i18n import manila_date


@dataclass(frozen=True)
class InsuranceCover:
    insurer: str
    coc_number: str
    coverage_start: dt.date
    coverage_end: dt.date


def save_findings(request: ClearanceRequest, cover: InsuranceCover, approving: bool) -> None:
    application = request.application
    errors: dict[str, str] = {}
    if cover.coverage_end <= cover.coverage_start:
        errors["coverage_end"] = gettext("Coverage must end after it starts.")
    if approving:
        if not cover.insurer.strip():
            errors["insurer"] = gettext("Name the insurer.")
        if not cover.coc_number.strip():
            errors["coc_number"] = gettext(
                "An approval needs the certificate of cover (COC) number."
            )
        if cover.coverage_start > application.period_start:
            errors["coverage_start"] = gettext(
                "Coverage starts %(coverage_start)s, after the registration period begins "
                "(%(period_start)s)."
            ) % {
                "coverage_start": manila_date(cover.coverage_start),
                "period_start": manila_date(application.period_start),
            }
        if cover.coverage_end < application.period_end:
            errors["coverage_end"] = gettext(
                "Coverage ends %(coverage_end)s, before the registration period ends "
                "(%(period_end)s)."
            ) % {
                "coverage_end": manila_date(cover.coverage_end),
                "period_end": manila_date(application.period_end),
            }
    if errors:
        raise ValidationError(errors)
    InsuranceClearanceDetail.objects.update_or_create(
        request=request,
        defaults={
            "insurer": cover.insurer.strip(),
            "coc_number": cover.coc_number.strip(),
            "coverage_start": cover.coverage_start,
            "coverage_end": cover.coverage_end,
        },
    )


class InsuranceDecisionForm(DecisionForm):
    insurer = forms.CharField(label=_("Insurer"), max_length=120)
    coc_number = forms.CharField(label=_("COC number"), max_length=40)
    coverage_start = forms.DateField(
        label=_("Coverage start"), widget=forms.DateInput(attrs={"type": "date"})
    )
    coverage_end = forms.DateField(
        label=_("Coverage end"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def findings(self) -> InsuranceCover:
        data = self.cleaned_data
        return InsuranceCover(
            insurer=data["insurer"],
            coc_number=data["coc_number"],
            coverage_start=data["coverage_start"],
            coverage_end=data["coverage_end"],
        )


def initial(request: ClearanceRequest) -> dict[str, Any]:
    """The insurer asked, and cover for exactly the registration period."""
    return {
        "insurer": request.organisation.name,
        "coverage_start": request.application.period_start,
        "coverage_end": request.application.period_end,
    }


class InsuranceCoverSerializer(serializers.Serializer):
    insurer = serializers.CharField(max_length=120)
    coc_number = serializers.CharField(max_length=40)
    coverage_start = serializers.DateField()
    coverage_end = serializers.DateField()


class InsuranceClearanceDetailAdmin(ReadOnlyAdmin):
    list_display = ["request", "insurer", "coc_number", "coverage_start", "coverage_end"]
    search_fields = ["coc_number", "insurer"]


def example(request: ClearanceRequest) -> InsuranceCover:
    return InsuranceCover(
        insurer=request.organisation.name,
        coc_number=f"COC-{request.pk:08d}",
        coverage_start=request.application.period_start,
        coverage_end=request.application.period_end + dt.timedelta(days=1),
    )


INSURANCE = register(
    ClearanceKind(
        code="INSURANCE",
        label=_("Insurance"),
        sent_to=_("Insurance"),
        signed_by=OrgKind.INSURANCE,
        findings=InsuranceCover,
        save_findings=save_findings,
        form=InsuranceDecisionForm,
        serializer=InsuranceCoverSerializer,
        sla_hours=24,
        evidence=("insurance_coc",),
        initial=initial,
        example=example,
        admins=((InsuranceClearanceDetail, InsuranceClearanceDetailAdmin),),
    )
)
