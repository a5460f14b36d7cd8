from django.contrib import admin

from clearance import kinds
from clearance.models import (
    ClearanceRequest,
    ClearanceRequirement,
    ClearanceStatusChange,
)
from kernel.admin import HistoryInline, ReadOnlyAdmin


@admin.register(ClearanceRequirement)
class ClearanceRequirementAdmin(admin.ModelAdmin):
    list_display = ["application_type", "kind"]
    list_filter = ["application_type", "kind"]


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


# Each kind's own models (its findings, its reference data), as its module lists them.
for kind in kinds.kinds():
    for model, model_admin in kind.admins:
        admin.site.register(model, model_admin)
