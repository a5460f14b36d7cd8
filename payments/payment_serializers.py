from __future__ import annotations

from rest_framework import serializers

from payments.models import Payment, Refund
from payments.payment_selectors import is_open


class RefundSerializer(serializers.ModelSerializer):
    recorded_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Refund
        ref_name = "PaymentRefund"
        fields = ["reference", "amount_centavos", "reason", "provider_refund_id", "recorded_at"]
        extra_kwargs = {
            "reference": {"help_text": "The LTO's own reference (given, or made up for it)."},
            "provider_refund_id": {
                "help_text": "The payment provider's refund id (e.g. PayMongo's `ref_…`)."
            },
        }


class PaymentSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="application_id", read_only=True)
    checkout_url = serializers.SerializerMethodField(
        help_text="Where the payer pays, while the checkout is open; null otherwise."
    )
    refunded_centavos = serializers.IntegerField(read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        ref_name = "Payment"
        fields = [
            "reference",
            "application",
            "amount_centavos",
            "currency",
            "status",
            "provider",
            "provider_payment_id",
            "checkout_url",
            "created_at",
            "expires_at",
            "paid_at",
            "refunded_centavos",
            "refunds",
        ]

    def get_checkout_url(self, payment: Payment) -> str | None:
        if not is_open(payment) or not payment.redirect_url:
            return None
        request = self.context.get("request")
        # The sandbox's checkout is a path of this site; PayMongo's is an absolute URL.
        return request.build_absolute_uri(payment.redirect_url) if request else payment.redirect_url
