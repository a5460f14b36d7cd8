"""Clearance requests, their per-kind details and history, and what each kind needs."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from chaincode.rules import CLEARANCE_OPEN, ClearanceStatus
from clearance import kinds
from kernel.db import TimestampedModel
from kernel.refusals import STATUSES
from ledger.models import RecordedOnLedger
from organisations.models import Organisation
from registry.models import RegistrationApplication

# Django's functional enum API (not modelled by django-stubs), from chaincode's statuses.
Status: type[models.TextChoices] = cast(Any, models.TextChoices)(
    "Status",
    # Labels from the statuses' marked words (kernel.refusals), so they read in any language.
    [(s.name, (s.value, capfirst(STATUSES[s.value]))) for s in ClearanceStatus],
)


class ClearanceRequirement(TimestampedModel):
    """Which clearance kinds an application type needs: data, editable in the admin."""

    application_type = models.CharField(max_length=20, choices=RegistrationApplication.Type.choices)
    # The registered kinds (clearance.kinds), read when asked: a new kind needs no migration.
    kind = models.CharField(max_length=12, choices=kinds.choices)

    class Meta:
        ordering = ["application_type", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["application_type", "kind"], name="requirement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_application_type_display()} needs {self.kind}"


class EmissionLimit(TimestampedModel):
    """Pass/fail limits for emission tests, per fuel; a blank fuel is the default row."""

    fuel = models.CharField(max_length=20, blank=True, unique=True)
    max_co_percent = models.DecimalField(
        "max CO %", max_digits=5, decimal_places=2, default=Decimal("4.50")
    )
    max_hc_ppm = models.PositiveIntegerField("max HC ppm", default=600)
    max_opacity_percent = models.DecimalField(
        "max smoke opacity %", max_digits=5, decimal_places=2, default=Decimal("50.00")
    )
    validity_days = models.PositiveSmallIntegerField(
        default=60, help_text="How long before filing a test result stays valid."
    )

    def __str__(self) -> str:
        return f"Emission limits ({self.fuel or 'default'})"


class ClearanceRequest(TimestampedModel):
    """One organisation's clearance of one application; its status lives on the ledger too."""

    Status = Status

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        RegistrationApplication, on_delete=models.PROTECT, related_name="clearance_requests"
    )
    # The registered kinds (clearance.kinds), read when asked: a new kind needs no migration.
    kind = models.CharField(max_length=12, choices=kinds.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="clearance_requests"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=ClearanceStatus.PENDING, db_index=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_clearances",
    )
    remarks = models.TextField(blank=True, help_text="The latest decision's remarks.")
    due_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["organisation", "status", "due_at"]),
            # An officer's queue: their organisation's open requests, most urgent first.
            models.Index(
                fields=["organisation", "due_at", "id"],
                condition=Q(status__in=CLEARANCE_OPEN),
                name="clearance_open_queue_idx",
            ),
            # Overdue work, for the LTO's filter: few rows are open and past due.
            models.Index(
                fields=["due_at", "application"],
                condition=Q(status__in=CLEARANCE_OPEN),
                name="clearance_open_due_idx",
            ),
            # The organisation's decided requests, latest first; and the API's list by due time.
            models.Index(
                fields=["organisation", "-decided_at", "-id"],
                condition=~Q(status__in=CLEARANCE_OPEN),
                name="clearance_decided_queue_idx",
            ),
            models.Index(fields=["organisation", "due_at", "id"], name="clearance_org_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=~Q(status=ClearanceStatus.CANCELLED),
                name="one_live_request_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} clearance for {self.application}"

    @property
    def is_open(self) -> bool:
        return self.status in CLEARANCE_OPEN


class HpgClearanceDetail(TimestampedModel):
    class MacroEtching(models.TextChoices):
        MATCH = "match", _("Engine and chassis numbers match")
        MISMATCH = "mismatch", _("Numbers do not match the records")
        TAMPERED = "tampered", _("Signs of tampering")

    class StolenCheck(models.TextChoices):
        CLEAR = "clear", _("Not reported stolen")
        HIT = "hit", _("Reported stolen")

    request = models.OneToOneField(
        ClearanceRequest, on_delete=models.CASCADE, related_name="hpg_detail"
    )
    engine_number_checked = models.CharField(max_length=30)
    chassis_number_checked = models.CharField(max_length=30)
    macro_etching_result = models.CharField(max_length=10, choices=MacroEtching.choices)
    stolen_vehicle_check = models.CharField(max_length=10, choices=StolenCheck.choices)
    certificate_number = models.CharField(max_length=40, blank=True)


class InsuranceClearanceDetail(TimestampedModel):
    request = models.OneToOneField(
        ClearanceRequest, on_delete=models.CASCADE, related_name="insurance_detail"
    )
    insurer = models.CharField(max_length=120)
    coc_number = models.CharField("COC number", max_length=40)
    coverage_start = models.DateField()
    coverage_end = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(coverage_end__gt=models.F("coverage_start")),
                name="coverage_ends_after_start",
            )
        ]


class EmissionClearanceDetail(TimestampedModel):
    request = models.OneToOneField(
        ClearanceRequest, on_delete=models.CASCADE, related_name="emission_detail"
    )
    testing_centre = models.CharField(max_length=120)
    certificate_number = models.CharField(max_length=40)
    test_date = models.DateField()
    fuel = models.CharField(max_length=20)
    co_percent = models.DecimalField(
        "CO %",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    hc_ppm = models.PositiveIntegerField("HC ppm", validators=[MaxValueValidator(100_000)])
    opacity_percent = models.DecimalField(
        "smoke opacity %",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    passed = models.BooleanField()


class ClearanceStatusChange(RecordedOnLedger):
    """Append-only history of a clearance request, each row with its ledger receipt."""

    request = models.ForeignKey(
        ClearanceRequest, on_delete=models.PROTECT, related_name="status_changes"
    )
    change_id = models.UUIDField(unique=True)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    actor_pseudonym = models.CharField(max_length=64)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT)
    remarks = models.TextField(blank=True)
    remarks_digest = models.CharField(max_length=64, blank=True)
    # Every clearance change is on the ledger: its receipt's time is never missing.
    ledger_timestamp = models.DateTimeField()
    # A change repaired from the ledger lacks its remarks (the ledger keeps their digest) and
    # a decision its findings: when its organisation entered them again.
    reentered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request} {self.from_status or 'new'} → {self.to_status}"
