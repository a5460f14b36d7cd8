from django.contrib import admin

from payments import (
    payment_admin,  # noqa: F401  (the payment models' admin)
    receipt_admin,  # noqa: F401  (official receipts' admin: read only)
)
from payments.models import Assessment, AssessmentItem, FeeRate, FeeSchedule


class FeeRateInline(admin.TabularInline):
    model = FeeRate
    extra = 0
    fields = [
        "code",
        "application_types",
        "vehicle_class",
        "gvw_min_kg",
        "gvw_max_kg",
        "rule",
        "amount_centavos",
        "per_kg_centavos",
        "threshold_kg",
        "percent",
        "confirmed",
        "source",
    ]


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "effective_to"]
    inlines = [FeeRateInline]


@admin.register(FeeRate)
class FeeRateAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "vehicle_class",
        "gvw_min_kg",
        "gvw_max_kg",
        "amount_centavos",
        "status",
    ]
    list_filter = ["confirmed", "code", "vehicle_class", "schedule"]
    search_fields = ["source"]

    @admin.display(description="status", ordering="confirmed")
    def status(self, rate: FeeRate) -> str:
        return "confirmed" if rate.confirmed else "UNCONFIRMED: not official"


class AssessmentItemInline(admin.TabularInline):
    model = AssessmentItem
    extra = 0
    readonly_fields = ["code", "label", "amount_centavos", "confirmed", "source"]
    can_delete = False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    # An assessment is a record of what was charged: read only.
    list_display = ["application", "total_centavos", "computed_at", "valid_until"]
    readonly_fields = [
        "application",
        "schedule",
        "computed_at",
        "valid_until",
        "total_centavos",
        "notes",
    ]
    inlines = [AssessmentItemInline]

    def has_add_permission(self, request: object) -> bool:
        return False
