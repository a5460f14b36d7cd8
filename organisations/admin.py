from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import PermissionDenied
from organisations.models import ApiKey, Membership, Office, Organisation
from organisations.services import api_key_revoke


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
    def revoke(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            try:
                api_key_revoke(key_id=key.pk, admin=request.user)
            except PermissionDenied as exc:
                self.message_user(request, f"{key}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{key} revoked.", messages.SUCCESS)


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "is_demo", "is_active"]
    list_filter = ["region", "is_demo", "is_active"]
    search_fields = ["code", "name"]
