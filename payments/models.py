"""Fees, assessments, payments and official receipts (issue 16)."""

# --- Payments (issue 16, "Payment"): what was paid through which gateway. -----------------
# A payment is for a "payable": an application and its assessment, kept as plain ids here
# so that payments do not depend on the assessment's model (linked when both are merged).

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from kernel.db import TimestampedModel


def new_payment_reference() -> str:
    return "PAY-" + secrets.token_hex(5).upper()


class Payment(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    # A payment in one of these still holds its assessment: no second one may start.
    HOLDING = (Status.PENDING, Status.PAID, Status.PARTIALLY_REFUNDED)

    reference = models.CharField(max_length=16, unique=True, default=new_payment_reference)
    application_id = models.BigIntegerField(db_index=True)
    assessment_id = models.BigIntegerField(db_index=True)
    amount_centavos = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="PHP")
    provider = models.CharField(max_length=16)
    provider_checkout_id = models.CharField(max_length=100, blank=True, db_index=True)
    provider_payment_id = models.CharField(max_length=100, blank=True)
    redirect_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_centavos__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(condition=Q(currency="PHP"), name="payment_currency_php"),
            # One live payment per assessment, whatever the race between two clicks.
            models.UniqueConstraint(
                fields=["assessment_id"],
                condition=Q(status__in=["pending", "paid", "partially_refunded"]),
                name="payment_one_holding_per_assessment",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def refunded_centavos(self) -> int:
        return sum(refund.amount_centavos for refund in self.refunds.all())


class PaymentEvent(models.Model):
    """Each verified callback, once per provider event id: a replay finds its row and stops."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        AMOUNT_MISMATCH = "amount_mismatch", "Refused: amount differs from the payment"
        CURRENCY_MISMATCH = "currency_mismatch", "Refused: currency differs from the payment"
        LATE = "late", "Refused: the checkout had expired"
        UNKNOWN_CHECKOUT = "unknown_checkout", "Refused: no such payment"
        ALREADY_SETTLED = "already_settled", "Ignored: the payment was already settled"
        IGNORED = "ignored", "Ignored: an event type this app does not act on"

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="payment_event_once_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} ({self.outcome})"


class Refund(TimestampedModel):
    """Money given back by LTO staff; a refund is a new row, the payment stays."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_centavos = models.PositiveBigIntegerField()
    reason = models.TextField()
    reference = models.CharField(max_length=100, help_text="The LTO's own reference for it.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recorded_refunds"
    )
    provider_refund_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_centavos__gt=0), name="refund_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.amount_centavos} centavos)"
