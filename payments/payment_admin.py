"""Payments in the admin: read-only, never deleted (a refund is recorded by LTO staff in the
app, as a new row)."""

from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from payments.models import Payment, PaymentEvent, Refund


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "application_id", "assessment_id", "amount_centavos", "status"]
    list_filter = ["status", "provider"]
    search_fields = ["reference", "provider_checkout_id", "provider_payment_id"]


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_id", "type", "outcome", "received_at"]
    list_filter = ["provider", "outcome"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["reference", "payment", "amount_centavos", "recorded_by", "created_at"]
