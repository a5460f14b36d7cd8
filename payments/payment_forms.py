"""The LTO staff's refund form: an amount in pesos (kept as centavos), a reason, and the
LTO's own reference if it has one."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to refund (₱)"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_("At most what was paid less what was already refunded."),
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    reference = forms.CharField(
        label=_("LTO reference (optional)"),
        max_length=100,
        required=False,
        help_text=_("A memo or voucher number; left empty, the refund gets one."),
    )

    @property
    def amount_centavos(self) -> int:
        return int(self.cleaned_data["amount"] * 100)
