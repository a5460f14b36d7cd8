"""The decision form every kind's form builds on: the kind (``clearance.kinds``) adds its
findings fields and turns them into its findings for the service."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from chaincode.rules import ClearanceStatus
from registry.forms import DocumentForm

DECISIONS = [
    (ClearanceStatus.APPROVED, "Approve"),
    (ClearanceStatus.REJECTED, "Reject"),
    (ClearanceStatus.RETURNED, "Return for correction"),
]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    remarks = forms.CharField(
        label=_("Remarks"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=_("Required when rejecting or returning; kept off the ledger (only a digest)."),
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
                    self.add_error(name, _("Needed to approve, or whenever findings are filed."))
        self.has_findings = bool(filled)
        return data

    def decision_findings(self) -> object | None:
        return self.findings() if self.has_findings else None

    def findings(self) -> object | None:
        """The kind's findings from the cleaned fields; a kind without fields files none."""
        return None


class RemarksReentryForm(forms.Form):
    """The remarks of a change restored from the ledger, entered again by its organisation."""

    remarks = forms.CharField(
        label=_("Remarks"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Exactly as they were written: they are checked against the ledger's digest."),
    )


class EvidenceForm(forms.Form):
    """A file an officer files as evidence for a request: from the decision page (with the
    decision, or on its own keeping the draft) or after deciding.

    Its type starts empty and must be chosen: a type filled in for the officer is a type
    nobody looked at. The kind's usual evidence comes first.
    """

    prefix = "evidence"

    doc_type = forms.ChoiceField(label=_("Kind of evidence"))
    file = forms.FileField(
        label=_("Evidence file"),
        help_text=_("PDF, PNG or JPEG, at most 10 MB; stencil photos PNG or JPEG, 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )

    def __init__(self, *args: Any, usual: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The types an application's documents may have, as the owner's upload form offers.
        type_field: Any = DocumentForm.base_fields["doc_type"]
        others: list[tuple[str, str]] = list(type_field.choices)
        labels = dict(others)
        choices: list[Any] = [("", _("Choose the kind of evidence…"))]
        if usual:
            choices.append((_("Usual for this check"), [(t, labels[t]) for t in usual]))
            choices.append((_("Other"), [c for c in others if c[0] not in usual]))
        else:
            choices.extend(others)
        cast("forms.ChoiceField", self.fields["doc_type"]).choices = choices

    def has_file(self) -> bool:
        """Whether a file was attached (evidence is optional beside a decision)."""
        return bool(self.files.get(self.add_prefix("file")))
