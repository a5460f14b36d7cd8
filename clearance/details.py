"""What each kind of organisation files with a decision, and the rules those findings obey."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from chaincode.rules import ClearanceStatus, OrgKind
from clearance.models import (
    ClearanceRequest,
    EmissionClearanceDetail,
    HpgClearanceDetail,
    InsuranceClearanceDetail,
)
from clearance.selectors import emission_limits


@dataclass(frozen=True)
class HpgFindings:
    engine_number_checked: str
    chassis_number_checked: str
    macro_etching_result: str
    stolen_vehicle_check: str
    certificate_number: str = ""


@dataclass(frozen=True)
class InsuranceCover:
    insurer: str
    coc_number: str
    coverage_start: dt.date
    coverage_end: dt.date


@dataclass(frozen=True)
class EmissionReadings:
    testing_centre: str
    certificate_number: str
    test_date: dt.date
    fuel: str
    co_percent: Decimal
    hc_ppm: int
    opacity_percent: Decimal | None = None


Findings = HpgFindings | InsuranceCover | EmissionReadings
_FINDINGS_FOR_KIND = {
    OrgKind.HPG: HpgFindings,
    OrgKind.INSURANCE: InsuranceCover,
    OrgKind.EMISSION: EmissionReadings,
}


def save_findings(*, request: ClearanceRequest, decision: str, findings: Findings | None) -> None:
    """Check the findings against the request and the rules, then store them.

    Approving needs findings that justify it; rejecting or returning may carry them.
    Readings that cannot be true are refused whatever the decision.
    """
    if findings is None:
        if decision == ClearanceStatus.APPROVED:
            raise ValidationError(
                {"findings": f"Approving a {request.kind} clearance needs its findings."}
            )
        return
    expected = _FINDINGS_FOR_KIND[OrgKind(request.kind)]
    if not isinstance(findings, expected):
        raise ValidationError(
            {"findings": f"A {request.kind} clearance takes {expected.__name__} findings."}
        )
    approving = decision == ClearanceStatus.APPROVED
    if isinstance(findings, HpgFindings):
        _save_hpg(request, findings, approving)
    elif isinstance(findings, InsuranceCover):
        _save_insurance(request, findings, approving)
    else:
        _save_emission(request, findings, approving)


def _save_hpg(request: ClearanceRequest, findings: HpgFindings, approving: bool) -> None:
    vehicle = request.application.vehicle
    errors: dict[str, str] = {}
    if findings.macro_etching_result not in HpgClearanceDetail.MacroEtching.values:
        errors["macro_etching_result"] = "Choose a macro-etching result."
    if findings.stolen_vehicle_check not in HpgClearanceDetail.StolenCheck.values:
        errors["stolen_vehicle_check"] = "Choose a stolen-vehicle check result."
    if approving:
        if findings.engine_number_checked.strip().upper() != vehicle.engine_number:
            errors["engine_number_checked"] = (
                "The engine number checked does not match the vehicle's record."
            )
        if findings.chassis_number_checked.strip().upper() != vehicle.chassis_number:
            errors["chassis_number_checked"] = (
                "The chassis number checked does not match the vehicle's record."
            )
        if findings.macro_etching_result != HpgClearanceDetail.MacroEtching.MATCH:
            errors.setdefault(
                "macro_etching_result", "Cannot approve unless macro-etching matches."
            )
        if findings.stolen_vehicle_check != HpgClearanceDetail.StolenCheck.CLEAR:
            errors.setdefault("stolen_vehicle_check", "Cannot approve a vehicle reported stolen.")
        if not findings.certificate_number.strip():
            errors["certificate_number"] = "An approval needs the HPG clearance certificate number."
    if errors:
        raise ValidationError(errors)
    HpgClearanceDetail.objects.update_or_create(
        request=request,
        defaults={
            "engine_number_checked": findings.engine_number_checked.strip().upper(),
            "chassis_number_checked": findings.chassis_number_checked.strip().upper(),
            "macro_etching_result": findings.macro_etching_result,
            "stolen_vehicle_check": findings.stolen_vehicle_check,
            "certificate_number": findings.certificate_number.strip(),
        },
    )


def _save_insurance(request: ClearanceRequest, cover: InsuranceCover, approving: bool) -> None:
    application = request.application
    errors: dict[str, str] = {}
    if cover.coverage_end <= cover.coverage_start:
        errors["coverage_end"] = "Coverage must end after it starts."
    if approving:
        if not cover.insurer.strip():
            errors["insurer"] = "Name the insurer."
        if not cover.coc_number.strip():
            errors["coc_number"] = "An approval needs the certificate of cover (COC) number."
        if cover.coverage_start > application.period_start:
            errors["coverage_start"] = (
                f"Coverage starts {cover.coverage_start:%d %b %Y}, after the registration "
                f"period begins ({application.period_start:%d %b %Y})."
            )
        if cover.coverage_end < application.period_end:
            errors["coverage_end"] = (
                f"Coverage ends {cover.coverage_end:%d %b %Y}, before the registration "
                f"period ends ({application.period_end:%d %b %Y})."
            )
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


def emission_failures(readings: EmissionReadings) -> dict[str, str]:
    """Readings over the limits for the fuel, each with a message naming it."""
    limits = emission_limits(readings.fuel)
    failures: dict[str, str] = {}
    if readings.co_percent > limits.max_co_percent:
        failures["co_percent"] = (
            f"CO {readings.co_percent}% exceeds the limit of {limits.max_co_percent}%."
        )
    if readings.hc_ppm > limits.max_hc_ppm:
        failures["hc_ppm"] = (
            f"HC {readings.hc_ppm} ppm exceeds the limit of {limits.max_hc_ppm} ppm."
        )
    if (
        readings.opacity_percent is not None
        and readings.opacity_percent > limits.max_opacity_percent
    ):
        failures["opacity_percent"] = (
            f"Smoke opacity {readings.opacity_percent}% exceeds the limit of "
            f"{limits.max_opacity_percent}%."
        )
    return failures


def _save_emission(request: ClearanceRequest, readings: EmissionReadings, approving: bool) -> None:
    errors: dict[str, str] = {}
    if not Decimal(0) <= readings.co_percent <= Decimal(100):
        errors["co_percent"] = "CO must be between 0 and 100 %."
    if readings.hc_ppm < 0 or readings.hc_ppm > 100_000:
        errors["hc_ppm"] = "HC must be between 0 and 100,000 ppm."
    if readings.opacity_percent is not None and not (
        Decimal(0) <= readings.opacity_percent <= Decimal(100)
    ):
        errors["opacity_percent"] = "Smoke opacity must be between 0 and 100 %."
    today = timezone.localdate()
    if readings.test_date > today:
        errors["test_date"] = "The test date cannot be in the future."
    if errors:
        raise ValidationError(errors)
    failures = emission_failures(readings)
    if approving:
        limits = emission_limits(readings.fuel)
        if (today - readings.test_date).days > limits.validity_days:
            errors["test_date"] = (
                f"The test of {readings.test_date:%d %b %Y} is older than "
                f"{limits.validity_days} days."
            )
        if not readings.certificate_number.strip():
            errors["certificate_number"] = "An approval needs the emission certificate number."
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
