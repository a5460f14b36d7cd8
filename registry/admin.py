from typing import Any

from django.contrib import admin

from kernel.admin import HistoryInline, ReadOnlyAdmin
from registry.models import (
    ApplicationStatusChange,
    Certificate,
    Deregistration,
    Document,
    DocumentRequirement,
    OriginFlag,
    OriginRecord,
    OwnerProfile,
    OwnershipPeriod,
    PlateSeries,
    RegistrationApplication,
    RegistrationPeriod,
    Vehicle,
)


@admin.register(OwnerProfile)
class OwnerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "mobile_number", "created_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "mobile_number"]
    raw_id_fields = ["user"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["vin", "plate_number", "make", "model", "year", "owner", "is_active"]
    list_filter = ["is_active", "fuel", "classification", "body_type"]
    search_fields = ["vin", "plate_number", "engine_number", "chassis_number", "mv_file_number"]
    raw_id_fields = ["owner"]

    def get_readonly_fields(self, request: Any, obj: Vehicle | None = None) -> Any:
        # Deregistration is final: no admin edit brings the vehicle or its numbers back.
        if obj is not None and Deregistration.objects.filter(vehicle=obj).exists():
            return [field.name for field in Vehicle._meta.fields]
        return super().get_readonly_fields(request, obj)


@admin.register(PlateSeries)
class PlateSeriesAdmin(admin.ModelAdmin):
    """The plate inventory: the LTO adds a region's next series here before one runs out."""

    list_display = [
        "region",
        "vehicle_class",
        "classification",
        "first_plate",
        "last_plate",
        "next_plate",
        "remaining",
        "is_active",
        "is_demo",
    ]
    list_filter = ["region", "vehicle_class", "classification", "is_active", "is_demo"]
    search_fields = ["letters", "region"]
    # Plates passed over are a record of what happened, not an input.
    readonly_fields = ["skipped"]

    @admin.display(description="first plate")
    def first_plate(self, series: PlateSeries) -> str:
        return series.plate(series.first_number)

    @admin.display(description="last plate")
    def last_plate(self, series: PlateSeries) -> str:
        return series.plate(series.last_number)

    @admin.display(description="next plate")
    def next_plate(self, series: PlateSeries) -> str:
        return series.plate(series.next_number) if series.remaining else "none left"

    @admin.display(description="plates left")
    def remaining(self, series: PlateSeries) -> int:
        return series.remaining


class ApplicationStatusChangeInline(HistoryInline):
    model = ApplicationStatusChange


@admin.register(RegistrationApplication)
class RegistrationApplicationAdmin(admin.ModelAdmin):
    list_display = ["reference", "type", "status", "applicant", "vehicle", "created_at"]
    list_filter = ["status", "type"]
    search_fields = ["reference", "vehicle__vin", "vehicle__plate_number", "applicant__username"]
    raw_id_fields = ["applicant", "vehicle", "reviewer"]
    # Status only changes through the workflow services, which write the ledger too.
    readonly_fields = ["status", "submitted_at", "decided_at"]
    inlines = [ApplicationStatusChangeInline]


@admin.register(ApplicationStatusChange)
class ApplicationStatusChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "application",
        "from_status",
        "to_status",
        "actor",
        "ledger_tx_id",
        "created_at",
    ]
    list_filter = ["to_status", "ledger_backend"]
    search_fields = ["application__reference", "ledger_tx_id", "change_id"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    """Documents change only through uploads; the admin shows where each is and its last check."""

    list_display = [
        "application",
        "doc_type",
        "original_name",
        "storage_backend",
        "check_ok",
        "checked_at",
        "created_at",
    ]
    list_filter = ["check_ok", "storage_backend", "doc_type"]
    search_fields = ["application__reference", "public_id", "sha256", "location", "ledger_tx_id"]


# Written only by approvals (registry.records): read-only here like the ledger's history.
@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "vehicle", "owner", "status", "issued_at", "ended_at"]
    list_filter = ["status"]
    search_fields = ["number", "vehicle__plate_number", "vehicle__vin"]


@admin.register(OwnershipPeriod)
class OwnershipPeriodAdmin(ReadOnlyAdmin):
    list_display = ["vehicle", "owner", "started_on", "ended_on", "acquired"]
    list_filter = ["acquired"]
    search_fields = ["vehicle__plate_number", "vehicle__vin", "owner__username"]


@admin.register(Deregistration)
class DeregistrationAdmin(ReadOnlyAdmin):
    list_display = ["vehicle", "reason", "deregistered_on", "decided_by", "ledger_confirmed_at"]
    list_filter = ["reason"]
    search_fields = ["vehicle__plate_number", "vehicle__vin"]


@admin.register(RegistrationPeriod)
class RegistrationPeriodAdmin(ReadOnlyAdmin):
    list_display = ["vehicle", "valid_from", "valid_to", "application"]
    search_fields = ["vehicle__plate_number", "application__reference"]


@admin.register(OriginRecord)
class OriginRecordAdmin(ReadOnlyAdmin):
    # Signed on the ledger by its dealer: never edited here.
    list_display = ["vin", "dealer", "make", "model", "year", "csr_number", "vehicle"]
    list_filter = ["dealer"]
    search_fields = ["vin", "engine_number", "chassis_number", "csr_number", "invoice_number"]


@admin.register(OriginFlag)
class OriginFlagAdmin(ReadOnlyAdmin):
    # Decided on the application's page, with a note (registry.origins.origin_flag_clear).
    list_display = ["vehicle", "origin", "matched", "cleared_at"]
    search_fields = ["vehicle__vin", "origin__vin"]


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(admin.ModelAdmin):
    """Which papers each application type needs: a change applies to the next filing. Retire
    one by taking it out of force rather than deleting it, so its history stays readable."""

    list_display = ["application_type", "doc_type", "filed_by", "is_active", "updated_at"]
    list_filter = ["application_type", "filed_by", "is_active", "doc_type"]
    list_editable = ["is_active"]
    search_fields = ["doc_type", "description"]
    fields = ["application_type", "doc_type", "filed_by", "description", "is_active"]
