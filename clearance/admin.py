from django.contrib import admin

from clearance.models import (
    ClearanceRequest,
    ClearanceRequirement,
    ClearanceStatusChange,
    EmissionClearanceDetail,
    EmissionLimit,
    HpgClearanceDetail,
    InsuranceClearanceDetail,
)
from kernel.admin import HistoryInline, ReadOnlyAdmin


@admin.register(ClearanceRequirement)
class ClearanceRequirementAdmin(admin.ModelAdmin):
    list_display = ["application_type", "kind"]
    list_filter = ["application_type", "kind"]


@admin.register(EmissionLimit)
class EmissionLimitAdmin(admin.ModelAdmin):
    list_display = ["fuel", "max_co_percent", "max_hc_ppm", "max_opacity_percent", "validity_days"]


class StatusChangeInline(HistoryInline):
    model = ClearanceStatusChange


@admin.register(ClearanceRequest)
class ClearanceRequestAdmin(admin.ModelAdmin):
    list_display = ["application", "kind", "organisation", "status", "assigned_to", "due_at"]
    list_filter = ["kind", "status", "organisation"]
    search_fields = ["application__reference", "application__vehicle__vin", "public_id"]
    raw_id_fields = ["application", "assigned_to"]
    # Status only changes through the workflow services, which write the ledger too.
    readonly_fields = ["public_id", "status", "decided_at"]
    date_hierarchy = "due_at"
    inlines = [StatusChangeInline]


@admin.register(ClearanceStatusChange)
class ClearanceStatusChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "request",
        "from_status",
        "to_status",
        "organisation",
        "ledger_tx_id",
        "created_at",
    ]
    list_filter = ["to_status", "organisation", "ledger_backend"]
    search_fields = ["request__application__reference", "ledger_tx_id", "change_id"]


@admin.register(HpgClearanceDetail)
class HpgClearanceDetailAdmin(ReadOnlyAdmin):
    list_display = ["request", "macro_etching_result", "stolen_vehicle_check", "certificate_number"]
    list_filter = ["macro_etching_result", "stolen_vehicle_check"]


@admin.register(InsuranceClearanceDetail)
class InsuranceClearanceDetailAdmin(ReadOnlyAdmin):
    list_display = ["request", "insurer", "coc_number", "coverage_start", "coverage_end"]
    search_fields = ["coc_number", "insurer"]


@admin.register(EmissionClearanceDetail)
class EmissionClearanceDetailAdmin(ReadOnlyAdmin):
    list_display = ["request", "testing_centre", "test_date", "co_percent", "hc_ppm", "passed"]
    list_filter = ["passed", "fuel"]
