"""Decision forms: one set of fields per clearance kind, turned into findings for the service."""

from __future__ import annotations

from typing import Any

from django import forms

from chaincode.rules import ClearanceStatus
from clearance.details import EmissionReadings, Findings, HpgFindings, InsuranceCover
from clearance.models import HpgClearanceDetail
from registry.models import Vehicle

DECISIONS = [
    (ClearanceStatus.APPROVED, "Approve"),
    (ClearanceStatus.REJECTED, "Reject"),
    (ClearanceStatus.RETURNED, "Return for correction"),
]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect)
    remarks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Required when rejecting or returning; kept off the ledger (only a digest).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Findings are needed to approve; a rejection or return may carry them or not.
        self.finding_fields = [
            name
            for name, field in self.fields.items()
            if name not in {"decision", "remarks"} and field.required
        ]
        for name in self.finding_fields:
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns cleaned_data
        filled = [name for name in self.finding_fields if data.get(name) not in (None, "")]
        if data.get("decision") == ClearanceStatus.APPROVED or filled:
            for name in self.finding_fields:
                if name not in filled and name not in self.errors:
                    self.add_error(name, "Needed to approve, or whenever findings are filed.")
        self.has_findings = bool(filled)
        return data

    def decision_findings(self) -> Findings | None:
        return self.findings() if self.has_findings else None

    def findings(self) -> Findings | None:
        return None


class HpgDecisionForm(DecisionForm):
    engine_number_checked = forms.CharField(max_length=30)
    chassis_number_checked = forms.CharField(max_length=30)
    macro_etching_result = forms.ChoiceField(choices=HpgClearanceDetail.MacroEtching.choices)
    stolen_vehicle_check = forms.ChoiceField(choices=HpgClearanceDetail.StolenCheck.choices)
    certificate_number = forms.CharField(
        max_length=40, required=False, help_text="Needed to approve."
    )

    def findings(self) -> Findings:
        data = self.cleaned_data
        return HpgFindings(
            engine_number_checked=data["engine_number_checked"],
            chassis_number_checked=data["chassis_number_checked"],
            macro_etching_result=data["macro_etching_result"],
            stolen_vehicle_check=data["stolen_vehicle_check"],
            certificate_number=data["certificate_number"],
        )


class InsuranceDecisionForm(DecisionForm):
    insurer = forms.CharField(max_length=120)
    coc_number = forms.CharField(label="COC number", max_length=40)
    coverage_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    coverage_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def findings(self) -> Findings:
        data = self.cleaned_data
        return InsuranceCover(
            insurer=data["insurer"],
            coc_number=data["coc_number"],
            coverage_start=data["coverage_start"],
            coverage_end=data["coverage_end"],
        )


# Readings carry a class the decision form listens to, to check them as the officer types.
_READING = {"class": "reading", "inputmode": "decimal", "step": "any"}


class EmissionReadingsForm(forms.Form):
    """The readings alone: also used by the live limit check while the officer types."""

    fuel = forms.ChoiceField(choices=Vehicle.Fuel.choices)
    co_percent = forms.DecimalField(
        label="CO %", max_digits=6, decimal_places=2, widget=forms.NumberInput(_READING)
    )
    hc_ppm = forms.IntegerField(label="HC ppm", widget=forms.NumberInput(_READING))
    opacity_percent = forms.DecimalField(
        label="Smoke opacity %",
        max_digits=6,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(_READING),
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
    testing_centre = forms.CharField(max_length=120)
    certificate_number = forms.CharField(
        max_length=40, required=False, help_text="Needed to approve."
    )
    test_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def findings(self) -> Findings:
        data = self.cleaned_data
        return self.readings(
            testing_centre=data["testing_centre"],
            certificate_number=data["certificate_number"],
            test_date=data["test_date"],
        )


DECISION_FORMS: dict[str, type[DecisionForm]] = {
    "HPG": HpgDecisionForm,
    "INSURANCE": InsuranceDecisionForm,
    "EMISSION": EmissionDecisionForm,
}
