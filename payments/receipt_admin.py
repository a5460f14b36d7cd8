"""Official receipts in the admin: read only, never deleted (a void is done by LTO staff in the
app, with a reason, and kept in the receipt's history)."""

from django.contrib import admin

from kernel.admin import HistoryInline, ReadOnlyAdmin
from payments.models import OfficialReceipt, ReceiptHistory, ReceiptItem, ReceiptSequence


class ReceiptItemInline(HistoryInline):
    model = ReceiptItem


class ReceiptHistoryInline(HistoryInline):
    model = ReceiptHistory


@admin.register(OfficialReceipt)
class OfficialReceiptAdmin(ReadOnlyAdmin):
    list_display = ["number", "office", "issued_at", "payer_name", "total_centavos", "voided_at"]
    list_filter = ["office", ("voided_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "payer_name", "application_reference", "gateway_reference"]
    inlines = [ReceiptItemInline, ReceiptHistoryInline]


@admin.register(ReceiptSequence)
class ReceiptSequenceAdmin(ReadOnlyAdmin):
    list_display = ["office", "next_serial", "updated_at"]
