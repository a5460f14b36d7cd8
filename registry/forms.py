"""Forms: they parse and check the shape of input; the services decide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from chaincode.rules import ApplicationStatus
from organisations.models import Office
from registry.models import (
    ORIGIN_VEHICLE_FIELDS,
    VEHICLE_DETAIL_FIELDS,
    Deregistration,
    Document,
    OriginRecord,
    RegistrationApplication,
    Vehicle,
    default_office_id,
)
from registry.profile import clean_mobile_number
from registry.selectors import vehicles_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# The vehicle's fields as the forms label them (the model's names are for the code).
VEHICLE_LABELS = {
    "vin": _("VIN"),
    "engine_number": _("Engine number"),
    "chassis_number": _("Chassis number"),
    "make": _("Make"),
    "model": _("Model"),
    "year": _("Year"),
    "body_type": _("Body type"),
    "colour": _("Colour"),
    "fuel": _("Fuel"),
    "classification": _("Classification"),
    "gvw_kg": _("Gross vehicle weight (kg)"),
}


class VehicleForm(forms.ModelForm):
    class Meta:
        model = Vehicle
        fields = list(VEHICLE_DETAIL_FIELDS)
        labels = VEHICLE_LABELS
        help_texts = {
            "vin": _("17 characters, as stamped on the chassis plate."),
            "gvw_kg": _("From the vehicle's papers; the LTO confirms it at inspection."),
        }


class HandEntryForm(VehicleForm):
    """An owner's own entry of a vehicle (an import, an older vehicle), with the reason to flag
    a match with a dealer's origin record to the LTO (registry.origins: the squatting rule)."""

    flag_reason = forms.CharField(
        label=_("Flag to the LTO: why these numbers are your vehicle's"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only if an engine or chassis number is refused as on a dealer's origin "
            "record of another VIN: the vehicle is then recorded flagged, and the LTO decides."
        ),
    )


class OriginForm(forms.ModelForm):
    """What a dealer's officer declares of a new vehicle; the service checks the numbers."""

    class Meta:
        model = OriginRecord
        fields = [*ORIGIN_VEHICLE_FIELDS, "csr_number", "invoice_number", "invoice_date"]
        labels = {
            **VEHICLE_LABELS,
            "csr_number": _("CSR number"),
            "invoice_number": _("Sales invoice number"),
            "invoice_date": _("Sales invoice date"),
        }
        help_texts = {"csr_number": _("The certificate of stock reported.")}
        widgets = {"invoice_date": forms.DateInput(attrs={"type": "date"})}

    def validate_unique(self) -> None:
        # The service refuses a known number, naming what holds it.
        return None


class OriginSaleForm(forms.Form):
    buyer_email = forms.EmailField(
        label=_("Buyer's e-mail address"),
        help_text=_(
            "The buyer gets a link there; accepting files their first registration of "
            "this vehicle with the numbers you recorded."
        ),
    )
    buyer_mobile = forms.CharField(
        label=_("Buyer's mobile number (optional)"), max_length=20, required=False
    )


class FlagClearForm(forms.Form):
    note = forms.CharField(
        label=_("Why the vehicle's numbers are accepted"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class ApplicationForm(forms.Form):
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=Vehicle.objects.none())
    # A transfer is filed by the buyer's acceptance of a sale, never from this form.
    type = forms.ChoiceField(
        label=_("Type"),
        choices=[
            choice
            for choice in RegistrationApplication.Type.choices
            if choice[0] != RegistrationApplication.Type.TRANSFER
        ],
    )
    office = forms.ModelChoiceField(
        queryset=Office.objects.filter(is_active=True),
        required=False,
        label=_("LTO office"),
        help_text=_("Where the application is filed; the first office if you leave it."),
    )

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["vehicle"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        # A deregistered vehicle stays listed, marked, so choosing it gets the service's
        # refusal saying why, not "not one of the available choices".
        field.queryset = vehicles_of(owner).select_related("deregistration")
        field.label_from_instance = _vehicle_label  # type: ignore[method-assign,assignment]
        self.fields["office"].initial = default_office_id()


def _vehicle_label(vehicle: Vehicle) -> str:
    if hasattr(vehicle, "deregistration"):
        return f"{vehicle} (deregistered)"
    return str(vehicle)


class DocumentForm(forms.Form):
    # A deregistration's evidence comes with the deregistration (DeregistrationForm), a
    # hold's with the hold (HoldPlaceForm, HoldLiftForm).
    doc_type = forms.ChoiceField(
        label=_("Document type"),
        choices=[
            choice
            for choice in Document.Type.choices
            if choice[0] not in {Document.Type.DEREGISTRATION_EVIDENCE, *Document.HOLD_TYPES}
        ],
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "PDF, PNG or JPEG, at most 10 MB (IDs 5 MB); stencil photos PNG or JPEG, 5 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )
    clearance_request = forms.IntegerField(
        label=_("Clearance request"), required=False, widget=forms.HiddenInput
    )


class DeregistrationForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is it deregistered?"), choices=Deregistration.Reason.choices
    )
    evidence = forms.FileField(
        label=_("Evidence"),
        help_text=_(
            "The certificate of scrapping, the export papers or the insurer's total-loss "
            "finding: PDF, PNG or JPEG, at most 10 MB. Its SHA-256 goes on the ledger."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )
    note = forms.CharField(
        label=_("Note"),
        help_text=_("What the evidence shows and who presented it. Kept off the ledger."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that deregistration is final: the vehicle can never be "
            "registered, renewed or sold again."
        )
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class WithdrawForm(forms.Form):
    """Withdrawing an application is written to the ledger for good: the owner says so first."""

    reason = forms.CharField(
        label=_("Why are you withdrawing it? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    confirm = forms.BooleanField(
        label=_("I understand that the withdrawal is recorded on the ledger and cannot be undone."),
        error_messages={"required": "Tick the box to confirm that you want to withdraw it."},
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("What did you correct?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )


class ApproveRegistrationForm(forms.Form):
    plate_number = forms.CharField(
        label=_("Plate number"),
        max_length=10,
        required=False,
        help_text=_("Leave blank to issue the next plate of the series."),
    )


class ApplicationSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=60,
        help_text=_("Reference, VIN, plate, owner's name or e-mail, make or model"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *RegistrationApplication.Status.choices],
    )
    type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[("", _("Any type")), *RegistrationApplication.Type.choices],
    )
    overdue = forms.BooleanField(label=_("Overdue clearances only"), required=False)
    flagged = forms.BooleanField(label=_("Flagged vehicles only"), required=False)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1)


class OwnerSignUpForm(UserCreationForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    mobile_number = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        required=False,
        help_text=_("For SMS updates: a Philippine mobile number, e.g. 0917 123 4567."),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name", "last_name", "email")

    def clean_mobile_number(self) -> str:
        # The same check and +639... form as the profile page's.
        return clean_mobile_number(self.cleaned_data.get("mobile_number", ""))

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists."))
        return email


OPEN_FOR_OWNER_EDITS = {ApplicationStatus.DRAFT, ApplicationStatus.RETURNED}


class VehicleCorrectionForm(VehicleForm):
    """The same fields, checked for shape only: the service validates uniqueness against the
    vehicle being corrected (an unbound instance would collide with itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vehicle = self.instance
        if vehicle.pk and OriginRecord.objects.filter(vehicle=vehicle).exists():
            # What the dealer declared is shown, never retyped (registry.origins).
            for name in ORIGIN_VEHICLE_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "As the dealer's origin record declares."

    def validate_unique(self) -> None:
        return None


class SaleStartForm(forms.Form):
    buyer_email = forms.EmailField(
        label=_("Buyer's e-mail address"),
        help_text=_("The buyer gets a link there; it works only for the account of this address."),
    )
    buyer_mobile = forms.CharField(
        label=_("Buyer's mobile number (optional)"), max_length=20, required=False
    )


class NoticeOfSaleForm(forms.Form):
    handed_over_on = forms.DateField(
        label=_("Handed over on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The notice of sale releases you from liability for the vehicle from this day."
        ),
    )


class DeedOfSaleForm(forms.Form):
    file = forms.FileField(
        label=_("Deed of sale (notarised)"),
        help_text=_("PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )


class HoldPlaceForm(forms.Form):
    vin = forms.CharField(
        label=_("VIN"),
        max_length=17,
        help_text=_("17 letters and digits; it may be a vehicle Talaan has no record of yet."),
    )
    reason = forms.ChoiceField(label=_("Reason"))
    evidence = forms.FileField(
        label=_("Evidence"),
        help_text=_(
            "The report, order or finding: PDF, PNG or JPEG, at most 10 MB. Its SHA-256 "
            "goes on the ledger; only your office and LTO staff can open it."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )
    note = forms.CharField(
        label=_("Note"),
        help_text=_("What the evidence shows. Kept off the ledger; the owner never sees it."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args: Any, reasons: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the reasons the officer's organisation places (chaincode.rules.HOLD_PLACERS).
        cast(forms.ChoiceField, self.fields["reason"]).choices = reasons


class HoldLiftForm(forms.Form):
    evidence = forms.FileField(
        label=_("Evidence"),
        help_text=_(
            "Why it is lifted: a recovery report, a court's lifting order, proof the "
            "violation was settled. PDF, PNG or JPEG, at most 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )
    note = forms.CharField(
        label=_("Note"),
        help_text=_("Kept off the ledger; the owner never sees it."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class HoldFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), ("active", _("Active")), ("lifted", _("Lifted"))],
        required=False,
    )


class MortgageProposeForm(forms.Form):
    vehicle = forms.CharField(
        label=_("Plate or VIN"), max_length=40, help_text=_("As on the owner's certificate.")
    )
    owner_email = forms.EmailField(
        label=_("Owner's e-mail address"),
        help_text=_("Confirms that you deal with the registered owner; they are asked to consent."),
    )


class MortgageAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Answer"), choices=[("accept", _("I consent")), ("decline", _("I decline"))]
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
