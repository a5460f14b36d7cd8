"""Fees, assessments, payments and official receipts (issue 16)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kernel.db import TimestampedModel
from organisations.models import Office
from registry.models import RegistrationApplication

# ---------------------------------------------------------------------------------------------
# Fees: the schedule (data, edited in the admin) and each application's assessment.
# Amounts are integers in centavos everywhere (₱1,600.00 = 160000).
# ---------------------------------------------------------------------------------------------


class VehicleClass(models.TextChoices):
    """The MVUC's classes (RA 8794 §3(b)); payments.fees maps a vehicle's body type to one."""

    MOTORCYCLE = "motorcycle", _("Motorcycle without sidecar")
    PRIVATE_CAR = "private_car", _("Passenger car")
    UTILITY_VEHICLE = "utility_vehicle", _("Utility vehicle")
    SUV = "suv", _("Sports utility vehicle")
    TRUCK = "truck", _("Truck")
    BUS = "bus", _("Bus")


class FeeSchedule(TimestampedModel):
    """A set of fee rates in force from ``effective_from`` to ``effective_to`` (inclusive;
    open-ended when empty). An assessment keeps its own copy of what it charged, so editing a
    schedule or adding a new one never changes an assessment already made."""

    name = models.CharField(max_length=120)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="fee_schedule_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        until = f" to {self.effective_to}" if self.effective_to else ""
        return f"{self.name} (from {self.effective_from}{until})"


class FeeRate(TimestampedModel):
    class Code(models.TextChoices):
        REGISTRATION_FEE = "registration_fee", _("Registration fee")
        MVUC = "mvuc", _("Motor vehicle user's charge (MVUC)")
        TRANSFER_FEE = "transfer_fee", _("Transfer of ownership fee")
        MORTGAGE_ANNOTATION_FEE = "mortgage_annotation_fee", _("Chattel mortgage annotation fee")
        LATE_RENEWAL_PENALTY = "late_renewal_penalty", _("Late renewal penalty")
        LATE_RENEWAL_SURCHARGE = "late_renewal_surcharge", _("Late renewal surcharge")
        COMPUTER_FEE = "computer_fee", _("Computer fee (with VAT)")
        STICKER_FEE = "sticker_fee", _("Sticker")
        PLATE_FEE = "plate_fee", _("Plate")

    class Rule(models.TextChoices):
        FIXED = "fixed", _("Fixed amount")
        PER_KG_OVER = "per_kg_over", _("Amount + per kg of GVW over a threshold")
        PERCENT_OF_MVUC = "percent_of_mvuc", _("Percent of the MVUC")

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="rates")
    code = models.CharField(max_length=30, choices=Code.choices)
    application_types = models.JSONField(
        default=list,
        blank=True,
        help_text='The application types it is charged on, e.g. ["new", "renewal"]; empty: '
        "charged on none yet (kept in the schedule for its own flow).",
    )
    vehicle_class = models.CharField(
        max_length=20, choices=VehicleClass.choices, blank=True, help_text="Empty: every class."
    )
    gvw_min_kg = models.PositiveIntegerField(null=True, blank=True)
    gvw_max_kg = models.PositiveIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=20, choices=Rule.choices, default=Rule.FIXED)
    amount_centavos = models.PositiveIntegerField(
        default=0, help_text="The fixed amount, or the base of a per-kg rule, in centavos."
    )
    per_kg_centavos = models.PositiveIntegerField(
        default=0, help_text="Per-kg rule: centavos per kg of GVW over the threshold."
    )
    threshold_kg = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per-kg rule: the GVW above which each kg is charged."
    )
    percent = models.PositiveSmallIntegerField(
        default=0, help_text="Percent-of-MVUC rule: the percentage."
    )
    source = models.TextField(help_text="Where the figure comes from (law, circular, page).")
    confirmed = models.BooleanField(
        default=False,
        help_text="Seen in a primary source or a reputable secondary one quoting it. An "
        "unconfirmed figure is shown everywhere as '(unconfirmed)', never as official.",
    )

    class Meta:
        ordering = ["schedule_id", "code", "vehicle_class", "gvw_min_kg"]

    def __str__(self) -> str:
        mark = "" if self.confirmed else " (unconfirmed)"
        return f"{self.get_code_display()} {self.vehicle_class or 'all'}{mark}"


class Assessment(TimestampedModel):
    """What an application costs, itemised, as computed from the schedule in force then.
    The current one is the newest still valid; older ones are kept."""

    application = models.ForeignKey(
        RegistrationApplication, on_delete=models.PROTECT, related_name="assessments"
    )
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    total_centavos = models.PositiveIntegerField()
    notes = models.TextField(blank=True, help_text="What the assessment assumed (e.g. no GVW).")

    class Meta:
        ordering = ["application_id", "-computed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application} assessed {self.computed_at:%Y-%m-%d}"

    @property
    def has_unconfirmed(self) -> bool:
        return any(not item.confirmed for item in self.items.all())


class AssessmentItem(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30, choices=FeeRate.Code.choices)
    label = models.CharField(max_length=160)
    amount_centavos = models.PositiveIntegerField()
    source = models.TextField()
    confirmed = models.BooleanField()

    class Meta:
        ordering = ["assessment_id", "position"]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount_centavos}"


# ---------------------------------------------------------------------------------------------
# Payments (the gateway helper's part) follow below.
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Payments (issue 16, "Payment"): what was paid through which gateway. A payment is for a
# "payable": an application and its assessment, kept as plain ids.
# ---------------------------------------------------------------------------------------------


def new_payment_reference() -> str:
    return "PAY-" + secrets.token_hex(5).upper()


class Payment(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")

    # A payment in one of these still holds its assessment: no second one may start.
    HOLDING = (Status.PENDING, Status.PAID, Status.PARTIALLY_REFUNDED)
    # Paid, and not given back in full: what counts as the assessment's payment.
    SETTLED = (Status.PAID, Status.PARTIALLY_REFUNDED)

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

    @property
    def refundable_centavos(self) -> int:
        return self.amount_centavos - self.refunded_centavos


class PaymentEvent(models.Model):
    """Each verified callback, once per provider event id: a replay finds its row and stops."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        AMOUNT_MISMATCH = "amount_mismatch", _("Refused: amount differs from the payment")
        CURRENCY_MISMATCH = "currency_mismatch", _("Refused: currency differs from the payment")
        LATE = "late", _("Refused: the checkout had expired")
        UNKNOWN_CHECKOUT = "unknown_checkout", _("Refused: no such payment")
        ALREADY_SETTLED = "already_settled", _("Ignored: the payment was already settled")
        IGNORED = "ignored", _("Ignored: an event type this app does not act on")

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


# ---------------------------------------------------------------------------------------------
# Official receipts (issue 16, "Official receipts"): one per paid payment, numbered per office
# from a gapless sequence (COA Circular 2013-007: an eOR number is unique and sequential). A
# receipt is never edited or deleted: a void is marked on it, its number stays in the series.
# ---------------------------------------------------------------------------------------------


class ReceiptSequence(models.Model):
    """The next official receipt serial of one office.

    The one row in Talaan that many writes share on purpose (STYLE and DESIGN otherwise avoid
    such rows): COA wants ORs in unbroken numerical sequence, so the number is taken by
    locking this row in the same transaction that marks the payment paid. Two payments at
    once queue on the lock and get consecutive numbers; a transaction that rolls back after
    taking a number gives it back (the increment rolls back with it), so no gap is left."""

    office = models.OneToOneField(
        Office, on_delete=models.PROTECT, primary_key=True, related_name="receipt_sequence"
    )
    next_serial = models.PositiveBigIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.office.code}: next {self.next_serial}"


def receipt_number(office_code: str, serial: int) -> str:
    """``<office code>-<serial, 7 digits>``, e.g. NCR-QC-DO-0000042: never reset (no year in
    it), so the office code and serial alone name the form, as a pre-numbered AF 51 does."""
    return f"{office_code}-{serial:07d}"


class OfficialReceipt(TimestampedModel):
    """What was collected, as issued: copied from the payment and its assessment when it was
    paid, so a later schedule, assessment or name change never alters it."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="receipts")
    serial = models.PositiveBigIntegerField()
    number = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField()
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="official_receipt"
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="official_receipts"
    )
    payer_name = models.CharField(max_length=300, help_text="The payer's name when issued.")
    application = models.ForeignKey(
        RegistrationApplication, on_delete=models.PROTECT, related_name="official_receipts"
    )
    application_reference = models.CharField(
        max_length=16, help_text="The order of payment: the application it pays for."
    )
    assessment_id = models.BigIntegerField(null=True, blank=True)
    total_centavos = models.PositiveBigIntegerField()
    mode_of_payment = models.CharField(max_length=60, help_text="e.g. Online (PayMongo).")
    gateway_reference = models.CharField(
        max_length=120, blank=True, help_text="The provider's payment id (transaction number)."
    )
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who collected at the counter; empty for an online payment.",
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The e-mail that carries the original as an attachment (its deliveries are retried).
    emailed_as = models.OneToOneField(
        "notifications.Notification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="official_receipt",
    )

    class Meta:
        ordering = ["office_id", "-serial"]
        constraints = [
            models.UniqueConstraint(fields=["office", "serial"], name="receipt_serial_per_office"),
            models.CheckConstraint(
                condition=Q(total_centavos__gt=0), name="receipt_total_positive"
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, void_reason="")
                | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
                name="receipt_void_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def has_unconfirmed(self) -> bool:
        return any(not item.confirmed for item in self.items.all())


class ReceiptItem(models.Model):
    """One line of a receipt: an assessment item as it was when paid (nature of collection)."""

    receipt = models.ForeignKey(OfficialReceipt, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30)
    label = models.CharField(max_length=160)
    amount_centavos = models.PositiveBigIntegerField()
    confirmed = models.BooleanField(
        help_text="False: the rate could not be confirmed as official; the OR says so."
    )

    class Meta:
        ordering = ["receipt_id", "position"]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount_centavos}"


class ReceiptHistory(TimestampedModel):
    """Append-only: each issue, reprint and void of a receipt, who did it and when."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REPRINTED = "reprinted", _("Reprinted")
        VOIDED = "voided", _("Voided")

    receipt = models.ForeignKey(OfficialReceipt, on_delete=models.PROTECT, related_name="history")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["receipt_id", "at", "id"]
        verbose_name_plural = "receipt history"

    def __str__(self) -> str:
        return f"{self.receipt_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
