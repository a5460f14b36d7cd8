from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from clearance.api_keys import api_key_revoke
from clearance.models import (
    ApiKey,
    ClearanceRequest,
    ClearanceRequirement,
    ClearanceStatusChange,
    EmissionClearanceDetail,
    EmissionLimit,
    HpgClearanceDetail,
    InsuranceClearanceDetail,
    Membership,
    Organisation,
)
from talaan.admin_mixins import HistoryInline, ReadOnlyAdmin
from talaan.errors import PermissionDenied


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "msp_id", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "msp_id"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "is_active"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = ["user__username", "organisation__name"]
    raw_id_fields = ["user"]


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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued through api_key_create (the secret is shown once); here they are
    inspected and revoked."""

    list_display = ["name", "organisation", "prefix", "scopes", "expires_at", "revoked_at"]
    list_filter = ["organisation", "revoked_at"]
    search_fields = ["name", "prefix", "organisation__name"]
    readonly_fields = [
        "organisation",
        "name",
        "prefix",
        "secret_sha256",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            try:
                api_key_revoke(key_id=key.pk, admin=request.user)
            except PermissionDenied as exc:
                self.message_user(request, f"{key}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{key} revoked.", messages.SUCCESS)
