"""Forms: the channel preferences, and the parameters of the list's POST endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from notifications import events
from notifications.models import WebhookEvent
from notifications.selectors import ChannelChoice
from notifications.webhooks import validate_target_url

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from organisations.models import Organisation


class PreferenceForm(forms.Form):
    """One event's row: in-app is always on; email and SMS are the person's choice."""

    event = forms.ChoiceField(label=_("Event"), widget=forms.HiddenInput)
    email = forms.BooleanField(required=False, label=_("Email"))
    sms = forms.BooleanField(required=False, label=_("SMS"))

    def __init__(
        self, *args: Any, receivable: list[events.NotificationEvent], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the events this person may receive can be chosen (the rest are refused).
        field = self.fields["event"]
        assert isinstance(field, forms.ChoiceField)  # declared above
        field.choices = [(event.name, event.label) for event in receivable]
        # The checkboxes sit under column headers; name each one for screen readers.
        for name, channel in (("email", _("Email")), ("sms", _("SMS"))):
            self.fields[name].widget.attrs["aria-label"] = f"{channel}: {self.event_label}"

    @property
    def event_label(self) -> str:
        value = self["event"].value()
        return events.label_of(str(value or ""))


class BasePreferenceFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        events = [form.cleaned_data["event"] for form in self.forms]
        if len(events) != len(set(events)):
            raise ValidationError(_("Each event may appear only once."))

    def choices(self) -> dict[str, ChannelChoice]:
        return {
            form.cleaned_data["event"]: ChannelChoice(
                email=form.cleaned_data["email"], sms=form.cleaned_data["sms"]
            )
            for form in self.forms
        }


def preference_formset(
    receivable: list[events.NotificationEvent], data: Any = None, initial: Any = None
) -> BasePreferenceFormSet:
    """One row per event this person may receive; more rows than that are refused."""
    # formset_factory makes a subclass of the formset it is given.
    formset_class = cast(
        "type[BasePreferenceFormSet]",
        forms.formset_factory(
            PreferenceForm,
            formset=BasePreferenceFormSet,
            extra=0,
            max_num=len(receivable),
            absolute_max=len(receivable),
            validate_max=True,
        ),
    )
    return formset_class(data, initial=initial, form_kwargs={"receivable": receivable})


class PageForm(forms.Form):
    """Which page of the list to go back to after a POST."""

    page = forms.IntegerField(label=_("Page"), min_value=1, required=False)

    def page_number(self) -> int:
        return (self.cleaned_data.get("page") or 1) if self.is_valid() else 1


class WebhookSubscriptionForm(forms.Form):
    """A new subscription: which of the user's organisations, which URL, which events."""

    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        queryset=None, empty_label=None
    )
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", help_text=_("http or https only.")
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = organisations

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            validate_target_url(url)
        except ValidationError as exc:
            # The validator names the field for the API; the form shows the message under it.
            raise ValidationError(exc.message_dict["url"]) from None
        return url
