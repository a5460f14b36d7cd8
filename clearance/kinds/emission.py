"""Emission clearance: a testing centre's readings, checked against the limits for the fuel
while the officer types them and again when they are filed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from rest_framework import serializers

from chaincode.rules import OrgKind
from clearance.forms import DecisionForm
from clearance.kinds import ClearanceKind, register
from clearance.models import ClearanceRequest, EmissionClearanceDetail, EmissionLimit
from clearance.selectors import clearance_request_get_for_user
from kernel.admin import ReadOnlyAdmin
from kernel.auth import AuthenticatedHttpRequest
from kernel.i18n import manila_date
from registry.models import Vehicle

CODE = "EMISSION"

# What an analyser can read at all; anything outside is a typing mistake, not a result.
CO_MAX = Decimal(100)
HC_MAX = 100_000
OPACITY_MAX = Decimal(100)
CO_RANGE_MESSAGE = _("CO must be between 0 and 100 %.")
HC_RANGE_MESSAGE = _("HC must be between 0 and 100,000 ppm.")
OPACITY_RANGE_MESSAGE = _("Smoke opacity must be between 0 and 100 %.")


def _within(low: Decimal | int, high: Decimal | int, message: Any) -> list:
    # Not MinValueValidator: its message is %-formatted, and these carry a literal "%".
    def validate(value: Decimal | int) -> None:
        if not low <= value <= high:
            raise ValidationError(message, code="impossible_reading")

    return [validate]


@dataclass(frozen=True)
class EmissionReadings:
    testing_centre: str
    certificate_number: str
    test_date: dt.date
    fuel: str
    co_percent: Decimal
    hc_ppm: int
    opacity_percent: Decimal | None = None


def emission_limits(fuel: str) -> EmissionLimit:
    """The limits for this fuel, else the default row, else the built-in defaults."""
    limits = {row.fuel: row for row in EmissionLimit.objects.filter(fuel__in=[fuel, ""])}
    return limits.get(fuel) or limits.get("") or EmissionLimit()


def emission_failures(readings: EmissionReadings) -> dict[str, str]:
    """Readings over the limits for the fuel, each with a message naming it."""
    limits = emission_limits(readings.fuel)
    failures: dict[str, str] = {}
    if readings.co_percent > limits.max_co_percent:
        failures["co_percent"] = gettext(
            "CO %(co_percent)s%% exceeds the limit of %(max_co_percent)s%%."
        ) % {"co_percent": readings.co_percent, "max_co_percent": limits.max_co_percent}
    if readings.hc_ppm > limits.max_hc_ppm:
        failures["hc_ppm"] = gettext(
            "HC %(hc_ppm)s ppm exceeds the limit of %(max_hc_ppm)s ppm."
        ) % {"hc_ppm": readings.hc_ppm, "max_hc_ppm": limits.max_hc_ppm}
    if (
        readings.opacity_percent is not None
        and readings.opacity_percent > limits.max_opacity_percent
    ):
        failures["opacity_percent"] = gettext(
            "Smoke opacity %(opacity_percent)s%% exceeds the limit of %(max_opacity_percent)s%%."
        ) % {
            "opacity_percent": readings.opacity_percent,
            "max_opacity_percent": limits.max_opacity_percent,
        }
    return failures


def impossible_readings(readings: EmissionReadings) -> dict[str, str]:
    """Readings no analyser can show (a negative CO, over 100 %), each with a message."""
    errors: dict[str, str] = {}
    if not Decimal(0) <= readings.co_percent <= CO_MAX:
        errors["co_percent"] = str(CO_RANGE_MESSAGE)
    if not 0 <= readings.hc_ppm <= HC_MAX:
        errors["hc_ppm"] = str(HC_RANGE_MESSAGE)
    if readings.opacity_percent is not None and not (
        Decimal(0) <= readings.opacity_percent <= OPACITY_MAX
    ):
        errors["opacity_percent"] = str(OPACITY_RANGE_MESSAGE)
    return errors


def save_findings(request: ClearanceRequest, readings: EmissionReadings, approving: bool) -> None:
    errors = impossible_readings(readings)
    today = timezone.localdate()
    if readings.test_date > today:
        errors["test_date"] = gettext("The test date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    failures = emission_failures(readings)
    if approving:
        limits = emission_limits(readings.fuel)
        if (today - readings.test_date).days > limits.validity_days:
            errors["test_date"] = gettext(
                "The test of %(test_date)s is older than %(validity_days)s days."
            ) % {
                "test_date": manila_date(readings.test_date),
                "validity_days": limits.validity_days,
            }
        if not readings.certificate_number.strip():
            errors["certificate_number"] = gettext(
                "An approval needs the emission certificate number."
            )
        errors.update(failures)
        if errors:
            raise ValidationError(errors)
    EmissionClearanceDetail.objects.update_or_create(
        request=request,
        defaults={
            "testing_centre": readings.testing_centre.strip(),
            "certificate_number": readings.certificate_number.strip(),
            "test_date": readings.test_date,
            "fuel": readings.fuel,
            "co_percent": readings.co_percent,
            "hc_ppm": readings.hc_ppm,
            "opacity_percent": readings.opacity_percent,
            "passed": not failures,
        },
    )


# Readings carry a class the decision form listens to, to check them as the officer types.
_READING = {"class": "reading", "inputmode": "decimal", "step": "any"}


class EmissionReadingsForm(forms.Form):
    """The readings alone: also used by the live limit check while the officer types."""

    fuel = forms.ChoiceField(label=_("Fuel"), choices=Vehicle.Fuel.choices)
    # The range is checked here too, so the live check calls a CO of -3 a mistake, not a pass;
    # no min/max attributes on the inputs, so the browser lets the server say so in words.
    co_percent = forms.DecimalField(
        label=_("CO %"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(_READING),
        validators=_within(Decimal(0), CO_MAX, CO_RANGE_MESSAGE),
    )
    hc_ppm = forms.IntegerField(
        label=_("HC ppm"),
        widget=forms.NumberInput(_READING),
        validators=_within(0, HC_MAX, HC_RANGE_MESSAGE),
    )
    opacity_percent = forms.DecimalField(
        label=_("Smoke opacity %"),
        max_digits=6,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(_READING),
        validators=_within(Decimal(0), OPACITY_MAX, OPACITY_RANGE_MESSAGE),
    )

    def readings(self, **extra: object) -> EmissionReadings:
        data = self.cleaned_data
        values: dict = {
            "testing_centre": "",
            "certificate_number": "",
            "test_date": None,
            "fuel": data["fuel"],
            "co_percent": data["co_percent"],
            "hc_ppm": data["hc_ppm"],
            "opacity_percent": data.get("opacity_percent"),
        }
        return EmissionReadings(**{**values, **extra})


class EmissionDecisionForm(DecisionForm, EmissionReadingsForm):
    testing_centre = forms.CharField(label=_("Testing centre"), max_length=120)
    certificate_number = forms.CharField(
        label=_("Certificate number"),
        max_length=40,
        required=False,
        help_text=_("Needed to approve."),
    )
    test_date = forms.DateField(
        label=_("Test date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def findings(self) -> EmissionReadings:
        data = self.cleaned_data
        return self.readings(
            testing_centre=data["testing_centre"],
            certificate_number=data["certificate_number"],
            test_date=data["test_date"],
        )


def initial(request: ClearanceRequest) -> dict[str, Any]:
    """The vehicle's fuel, a test today, at the centre asked."""
    return {
        "fuel": request.application.vehicle.fuel,
        "test_date": timezone.localdate(),
        "testing_centre": request.organisation.name,
    }


def context(request: ClearanceRequest) -> dict[str, Any]:
    return {"limits": emission_limits(request.application.vehicle.fuel)}


class EmissionReadingsSerializer(serializers.Serializer):
    testing_centre = serializers.CharField(max_length=120)
    certificate_number = serializers.CharField(max_length=40, allow_blank=True)
    test_date = serializers.DateField()
    fuel = serializers.CharField(max_length=20)
    co_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    hc_ppm = serializers.IntegerField(min_value=0)
    opacity_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )


@login_required
@require_GET
def emission_check(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """HTMX fragment: the readings typed so far, each against its limit."""
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    if clearance.kind != CODE:
        raise Http404(_("Not an emission clearance."))
    form = EmissionReadingsForm(request.GET)
    failures: dict[str, str] = {}
    if form.is_valid():
        failures = emission_failures(form.readings())
    # A reading typed but impossible (CO -3) is a mistake to fix, never "within the limit";
    # an empty one is only not typed yet.
    mistakes = {name: errors[0] for name, errors in form.errors.items() if form.data.get(name)}
    return render(
        request,
        "clearance/kinds/_emission_check.html",
        {
            "form": form,
            "failures": {**failures, **mistakes},
            "mistakes": mistakes,
            "limits": emission_limits(form.data.get("fuel") or clearance.application.vehicle.fuel),
            "checked": form.is_valid(),
        },
    )


class EmissionLimitAdmin(admin.ModelAdmin):
    list_display = ["fuel", "max_co_percent", "max_hc_ppm", "max_opacity_percent", "validity_days"]


class EmissionClearanceDetailAdmin(ReadOnlyAdmin):
    list_display = ["request", "testing_centre", "test_date", "co_percent", "hc_ppm", "passed"]
    list_filter = ["passed", "fuel"]


def example(request: ClearanceRequest) -> EmissionReadings:
    fuel = request.application.vehicle.fuel
    return EmissionReadings(
        testing_centre=request.organisation.name,
        certificate_number=f"ETC-{request.pk:06d}",
        test_date=timezone.localdate(),
        fuel=fuel,
        co_percent=Decimal("0.8"),
        hc_ppm=120,
        opacity_percent=Decimal("12") if fuel == Vehicle.Fuel.DIESEL else None,
    )


EMISSION = register(
    ClearanceKind(
        code=CODE,
        label=_("Emission"),
        sent_to=_("Emission testing"),
        signed_by=OrgKind.EMISSION,
        findings=EmissionReadings,
        save_findings=save_findings,
        form=EmissionDecisionForm,
        serializer=EmissionReadingsSerializer,
        template="clearance/kinds/emission.html",
        sla_hours=48,
        evidence=("emission_certificate",),
        initial=initial,
        context=context,
        example=example,
        admins=(
            (EmissionClearanceDetail, EmissionClearanceDetailAdmin),
            (EmissionLimit, EmissionLimitAdmin),
        ),
        urls=(path("clearances/<int:pk>/emission-check/", emission_check, name="emission-check"),),
    )
)
