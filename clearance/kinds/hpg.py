"""HPG clearance: the stolen-vehicle check and the macro-etching of engine and chassis numbers."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from chaincode.rules import OrgKind
from clearance.forms import DecisionForm
from clearance.kinds import ClearanceKind, register
from clearance.models import ClearanceRequest, HpgClearanceDetail
from kernel.admin import ReadOnlyAdmin
from registry.holds import active_stolen_hold


@dataclass(frozen=True)
class HpgFindings:
    engine_number_checked: str
    chassis_number_checked: str
    macro_etching_result: str
    stolen_vehicle_check: str
    certificate_number: str = ""


def save_findings(request: ClearanceRequest, findings: HpgFindings, approving: bool) -> None:
    vehicle = request.application.vehicle
    errors: dict[str, str] = {}
    if findings.macro_etching_result not in HpgClearanceDetail.MacroEtching.values:
        errors["macro_etching_result"] = gettext("Choose a macro-etching result.")
    if findings.stolen_vehicle_check not in HpgClearanceDetail.StolenCheck.values:
        errors["stolen_vehicle_check"] = gettext("Choose a stolen-vehicle check result.")
    if approving:
        if findings.engine_number_checked.strip().upper() != vehicle.engine_number:
            errors["engine_number_checked"] = gettext(
                "The engine number checked does not match the vehicle's record."
            )
        if findings.chassis_number_checked.strip().upper() != vehicle.chassis_number:
            errors["chassis_number_checked"] = gettext(
                "The chassis number checked does not match the vehicle's record."
            )
        if findings.macro_etching_result != HpgClearanceDetail.MacroEtching.MATCH:
            errors.setdefault(
                "macro_etching_result", gettext("Cannot approve unless macro-etching matches.")
            )
        if findings.stolen_vehicle_check != HpgClearanceDetail.StolenCheck.CLEAR:
            errors.setdefault(
                "stolen_vehicle_check", gettext("Cannot approve a vehicle reported stolen.")
            )
        if not findings.certificate_number.strip():
            errors["certificate_number"] = gettext(
                "An approval needs the HPG clearance certificate number."
            )
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


class HpgDecisionForm(DecisionForm):
    engine_number_checked = forms.CharField(label=_("Engine number checked"), max_length=30)
    chassis_number_checked = forms.CharField(label=_("Chassis number checked"), max_length=30)
    macro_etching_result = forms.ChoiceField(
        label=_("Macro etching result"), choices=HpgClearanceDetail.MacroEtching.choices
    )
    # A blank first choice: "not reported stolen" is the officer's finding, never a default.
    stolen_vehicle_check = forms.ChoiceField(
        label=_("Stolen vehicle check"),
        choices=[("", "Choose the check's result"), *HpgClearanceDetail.StolenCheck.choices],
    )
    certificate_number = forms.CharField(
        label=_("Certificate number"),
        max_length=40,
        required=False,
        help_text=_("Needed to approve."),
    )

    def findings(self) -> HpgFindings:
        data = self.cleaned_data
        return HpgFindings(
            engine_number_checked=data["engine_number_checked"],
            chassis_number_checked=data["chassis_number_checked"],
            macro_etching_result=data["macro_etching_result"],
            stolen_vehicle_check=data["stolen_vehicle_check"],
            certificate_number=data["certificate_number"],
        )


class HpgFindingsSerializer(serializers.Serializer):
    engine_number_checked = serializers.CharField(max_length=30)
    chassis_number_checked = serializers.CharField(max_length=30)
    macro_etching_result = serializers.ChoiceField(HpgClearanceDetail.MacroEtching.choices)
    stolen_vehicle_check = serializers.ChoiceField(HpgClearanceDetail.StolenCheck.choices)
    certificate_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


class HpgClearanceDetailAdmin(ReadOnlyAdmin):
    list_display = ["request", "macro_etching_result", "stolen_vehicle_check", "certificate_number"]
    list_filter = ["macro_etching_result", "stolen_vehicle_check"]


def initial(request: ClearanceRequest) -> dict[str, str]:
    """The hold register answers the stolen-vehicle check when it has an active stolen hold
    on the VIN: a hit. Nothing else is pre-filled (a "not stolen" is never presumed)."""
    if active_stolen_hold(request.application.vehicle.vin) is None:
        return {}
    return {"stolen_vehicle_check": HpgClearanceDetail.StolenCheck.HIT}


def context(request: ClearanceRequest) -> dict[str, object]:
    return {"stolen_hold": active_stolen_hold(request.application.vehicle.vin)}


def example(request: ClearanceRequest) -> HpgFindings:
    vehicle = request.application.vehicle
    return HpgFindings(
        engine_number_checked=vehicle.engine_number,
        chassis_number_checked=vehicle.chassis_number,
        macro_etching_result=HpgClearanceDetail.MacroEtching.MATCH,
        stolen_vehicle_check=HpgClearanceDetail.StolenCheck.CLEAR,
        certificate_number=f"HPG-MV-{request.pk:06d}",
    )


HPG = register(
    ClearanceKind(
        code="HPG",
        label=_("HPG"),
        sent_to=_("HPG"),
        signed_by=OrgKind.HPG,
        findings=HpgFindings,
        save_findings=save_findings,
        form=HpgDecisionForm,
        serializer=HpgFindingsSerializer,
        sla_hours=72,
        template="clearance/kinds/_hpg_fields.html",
        evidence=("hpg_clearance", "stencil_photo"),
        initial=initial,
        context=context,
        example=example,
        admins=((HpgClearanceDetail, HpgClearanceDetailAdmin),),
    )
)
