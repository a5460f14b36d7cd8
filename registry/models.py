"""Owners, vehicles and registration applications."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from chaincode.rules import VIN_PATTERN, ApplicationStatus, DeregistrationReason, HoldReason
from kernel.db import TimestampedModel
from kernel.i18n import Message
from kernel.refusals import STATUSES
from ledger.models import RecordedOnLedger
from organisations.models import Office

vin_validator = RegexValidator(
    VIN_PATTERN,
    "A VIN has exactly 17 letters and digits (ISO 3779) and never uses I, O or Q.",
    code="invalid_vin",
)


class OwnerProfile(TimestampedModel):
    """What the LTO knows of a vehicle owner beyond the login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owner_profile"
    )
    mobile_number = models.CharField(max_length=20, blank=True)
    address = models.TextField(blank=True)
    government_id_number = models.CharField(
        "government ID number", max_length=40, blank=True, help_text="Kept off the ledger."
    )

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class Vehicle(TimestampedModel):
    class Fuel(models.TextChoices):
        GASOLINE = "gasoline", _("Gasoline")
        DIESEL = "diesel", _("Diesel")
        HYBRID = "hybrid", _("Hybrid")
        ELECTRIC = "electric", _("Electric")
        LPG = "lpg", _("LPG")

    class Classification(models.TextChoices):
        PRIVATE = "private", _("Private")
        FOR_HIRE = "for_hire", _("For hire")
        GOVERNMENT = "government", _("Government")
        DIPLOMATIC = "diplomatic", _("Diplomatic")

    class BodyType(models.TextChoices):
        SEDAN = "sedan", _("Sedan")
        HATCHBACK = "hatchback", _("Hatchback")
        SUV = "suv", _("SUV")
        PICKUP = "pickup", _("Pick-up")
        VAN = "van", _("Van")
        MOTORCYCLE = "motorcycle", _("Motorcycle")
        TRUCK = "truck", _("Truck")
        BUS = "bus", _("Bus")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vehicles"
    )
    vin = models.CharField("VIN", max_length=17, validators=[vin_validator])
    engine_number = models.CharField(max_length=30)
    chassis_number = models.CharField(max_length=30)
    make = models.CharField(max_length=60)
    model = models.CharField(max_length=60)
    year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    body_type = models.CharField(max_length=20, choices=BodyType.choices)
    colour = models.CharField(max_length=40)
    fuel = models.CharField(max_length=20, choices=Fuel.choices)
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.PRIVATE
    )
    # Gross vehicle weight, for the MVUC's weight bands (issue 16). Optional: a vehicle
    # without it is assessed in its class's lowest band and the LTO confirms it at inspection.
    gvw_kg = models.PositiveIntegerField(
        "gross vehicle weight (kg)",
        null=True,
        blank=True,
        validators=[MinValueValidator(50), MaxValueValidator(60000)],
        help_text="From the vehicle's papers; the LTO confirms it at inspection.",
    )
    plate_number = models.CharField(max_length=10, null=True, blank=True, unique=True)
    mv_file_number = models.CharField(
        "MV file number", max_length=20, null=True, blank=True, unique=True
    )
    is_active = models.BooleanField(
        default=True,
        help_text="An inactive vehicle (deregistered, replaced) is no longer on the road; its "
        "numbers are never recorded for another vehicle (registry.services.vehicle_register).",
    )

    class Meta:
        # Search finds inactive vehicles too, which the partial unique index below leaves out.
        indexes = [models.Index(fields=["vin"], name="vehicle_vin_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["vin"],
                condition=Q(is_active=True),
                name="vehicle_active_vin_unique",
                violation_error_message="Another active vehicle already has this VIN.",
            ),
            models.UniqueConstraint(
                fields=["engine_number"],
                condition=Q(is_active=True),
                name="vehicle_active_engine_unique",
                violation_error_message="Another active vehicle already has this engine number.",
            ),
            models.UniqueConstraint(
                fields=["chassis_number"],
                condition=Q(is_active=True),
                name="vehicle_active_chassis_unique",
                violation_error_message="Another active vehicle already has this chassis number.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.make} {self.model} ({self.plate_number or self.vin})"


class PlateSeries(TimestampedModel):
    """A block of plates the LTO allocated to a region for one class of vehicle (issue 16).

    Plates are issued from it in strict numerical sequence, first in first out, as the LTO's
    memorandum of 18 Sep 2014 on private MV and MC plates requires (registry.plates): the
    letters stay, the number counts from ``first_number`` to ``last_number``. Data, added and
    edited by the LTO in the admin; a region's next series is the next one added.
    """

    class VehicleClass(models.TextChoices):
        # LLL-DDDD for four-wheel vehicles: LTO MC VPT-2013-1772 (AutoIndustriya, 2013-07).
        CAR = "car", _("Car, utility vehicle, truck or bus (ABC 1234)")
        # DDD-LLL for motorcycles, the RA 11235 plates: "three numbers followed by three
        # letters" (LTO-Cordillera via PNA, Baguio Midland Courier, 2024-02-25; the Wikipedia
        # article of 2023-05 agrees). The 2013 circular's LL-DDDDD is the older design.
        MOTORCYCLE = "motorcycle", _("Motorcycle (123 ABC)")

    # The highest number each class's plate has room for (four digits, three digits).
    LARGEST_NUMBER: dict[str, int] = {VehicleClass.CAR: 9999, VehicleClass.MOTORCYCLE: 999}

    region = models.CharField(
        max_length=40, help_text="As the offices write it (e.g. NCR, Region VII)."
    )
    vehicle_class = models.CharField(max_length=20, choices=VehicleClass.choices)
    classification = models.CharField(
        max_length=20,
        choices=Vehicle.Classification.choices,
        default=Vehicle.Classification.PRIVATE,
        help_text="Private, for-hire and government plates are separate series.",
    )
    letters = models.CharField(
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Three capital letters, e.g. NDA.")],
        help_text="The plate's three letters, the same on every plate of the series.",
    )
    first_number = models.PositiveIntegerField(default=1)
    last_number = models.PositiveIntegerField()
    next_number = models.PositiveIntegerField(
        blank=True, help_text="The number the next plate gets; blank starts at the first number."
    )
    is_active = models.BooleanField(
        default=True, help_text="An inactive series issues nothing (e.g. plates not delivered)."
    )
    is_demo = models.BooleanField(
        default=False, help_text="Seeded for the demo: not an allocation by the LTO."
    )
    skipped = models.TextField(
        blank=True,
        help_text="Plates of the series passed over because a vehicle already had them "
        "(chosen by hand at an approval), one a line.",
    )

    class Meta:
        verbose_name_plural = "plate series"
        ordering = ["region", "vehicle_class", "classification", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_number__lte=models.F("last_number")),
                name="plate_series_first_not_after_last",
            ),
            models.CheckConstraint(
                condition=Q(next_number__gte=models.F("first_number"))
                & Q(next_number__lte=models.F("last_number") + 1),
                name="plate_series_next_within_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.plate(self.first_number)} to {self.plate(self.last_number)}"

    @property
    def label(self) -> str:
        """Region, classification and class, as staff say it: "NCR private car"."""
        kind = Vehicle.Classification(self.classification).label.lower()
        return f"{self.region} {kind} {self.VehicleClass(self.vehicle_class).name.lower()}"

    def plate(self, number: int) -> str:
        """The plate of ``number`` in this series, written as issued plates are."""
        if self.vehicle_class == self.VehicleClass.MOTORCYCLE:
            return f"{number:03d} {self.letters}"
        return f"{self.letters} {number:04d}"

    @property
    def remaining(self) -> int:
        """Plates not yet issued (a hand-chosen one among them is skipped when reached)."""
        return max(0, self.last_number - self.next_number + 1)

    def clean(self) -> None:
        if self.next_number is None and self.first_number is not None:
            self.next_number = self.first_number
        largest = self.LARGEST_NUMBER.get(self.vehicle_class)
        if largest is not None and self.last_number is not None and self.last_number > largest:
            raise ValidationError(
                {
                    "last_number": Message(
                        _("A plate of this class goes up to %(largest)s."), {"largest": largest}
                    )
                }
            )
        if None in (self.first_number, self.last_number, self.next_number):
            return
        if self.first_number > self.last_number:
            raise ValidationError({"last_number": _("The last number comes after the first.")})
        if not self.first_number <= self.next_number <= self.last_number + 1:
            raise ValidationError(
                {"next_number": _("The next number lies between the first and one past the last.")}
            )
        # Two series that share plates would issue one plate twice.
        overlapping = PlateSeries.objects.filter(
            vehicle_class=self.vehicle_class,
            letters=self.letters,
            first_number__lte=self.last_number,
            last_number__gte=self.first_number,
        ).exclude(pk=self.pk)
        if overlapping.exists():
            raise ValidationError(
                _("Series %(overlapping)s already holds some of these plates."),
                params={"overlapping": overlapping[0]},
            )


# What an owner enters about a vehicle (and may correct before registration).
VEHICLE_DETAIL_FIELDS = (
    "vin",
    "engine_number",
    "chassis_number",
    "make",
    "model",
    "year",
    "body_type",
    "colour",
    "fuel",
    "classification",
    "gvw_kg",
)


def new_reference() -> str:
    """A short reference people can read over the phone: no 0/O, 1/I/L confusion."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "TLN-" + "".join(secrets.choice(alphabet) for _position in range(8))


def default_office_id() -> int | None:
    """The office an application is filed at unless the owner chooses: the first active one."""
    return Office.objects.filter(is_active=True).values_list("pk", flat=True).first()


class RegistrationApplication(TimestampedModel):
    class Type(models.TextChoices):
        NEW = "new", _("New registration")
        RENEWAL = "renewal", _("Renewal")
        TRANSFER = "transfer", _("Transfer of ownership")

    # Django's functional enum API (not modelled by django-stubs), from chaincode's statuses.
    Status: type[models.TextChoices] = cast(Any, models.TextChoices)(
        "Status",
        [
            (status.name, (status.value, capfirst(STATUSES[status.value])))
            for status in ApplicationStatus
        ],
    )

    # Decided: nothing moves it any more (an application in progress is in none of these).
    FINISHED = frozenset(
        {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, ApplicationStatus.CANCELLED}
    )

    reference = models.CharField(max_length=16, unique=True, default=new_reference)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="applications")
    type = models.CharField(max_length=20, choices=Type.choices)
    # The LTO office it is filed at (issue 16); null only on rows from before offices existed.
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    status = models.CharField(
        max_length=24, choices=Status.choices, default=ApplicationStatus.DRAFT, db_index=True
    )
    period_start = models.DateField(help_text="First day of the registration period applied for.")
    period_end = models.DateField(help_text="Last day of the registration period applied for.")
    # A renewal filed after the plate's due week (registry.schedule); the fees charge it.
    filed_late = models.BooleanField(default=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_applications",
    )
    remarks = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # Lists are newest first with the id breaking ties (pages, API cursors); the id in the
        # index lets a deep page skip its rows in the index alone.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="application_newest_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="application_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="application_period_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.reference


class ApplicationStatusChange(RecordedOnLedger):
    """Append-only history of an application's status; a registration carries its receipt."""

    application = models.ForeignKey(
        RegistrationApplication, on_delete=models.PROTECT, related_name="status_changes"
    )
    change_id = models.UUIDField(unique=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application} {self.from_status or 'new'} → {self.to_status}"


def document_path(document: Document, filename: str) -> str:
    # Kept for migration 0003, which built the old FileField with it.
    return f"documents/{document.application_id}/{secrets.token_hex(16)}"


class Document(TimestampedModel, RecordedOnLedger):
    """Evidence attached to an application or one of its clearances, or the evidence of a
    hold (placing or lifting it: no application, seen only by the holding office and the LTO).

    The file lives in a storage backend (filesystem, IPFS or OCI Object Storage) at
    ``location``; its SHA-256 (of the plaintext) is anchored on the ledger by RecordDocument,
    so neither the file nor this row can be changed unnoticed.
    """

    class Type(models.TextChoices):
        SALES_INVOICE = "sales_invoice", _("Sales invoice")
        CSR = "csr", _("Certificate of stock reported")
        INSURANCE_COC = "insurance_coc", _("Insurance certificate of cover")
        EMISSION_CERTIFICATE = "emission_certificate", _("Emission certificate")
        HPG_CLEARANCE = "hpg_clearance", _("HPG clearance")
        DEED_OF_SALE = "deed_of_sale", _("Deed of sale")
        GOVERNMENT_ID = "government_id", _("Government ID")
        STENCIL_PHOTO = "stencil_photo", _("Photo of engine/chassis stencil")
        DEREGISTRATION_EVIDENCE = (
            "deregistration_evidence",
            _("Deregistration evidence (scrapping, export or loss)"),
        )
        HOLD_EVIDENCE = "hold_evidence", _("Hold evidence (report, order or finding)")
        HOLD_LIFT_EVIDENCE = "hold_lift_evidence", _("Evidence for lifting a hold")
        OTHER = "other", _("Other")

    # A hold's evidence belongs to the hold, not to any application (its VIN may have none).
    HOLD_TYPES = (Type.HOLD_EVIDENCE, Type.HOLD_LIFT_EVIDENCE)

    class Storage(models.TextChoices):
        FILESYSTEM = "filesystem", _("Filesystem")
        IPFS = "ipfs", _("IPFS")
        OCI = "oci", _("OCI Object Storage")

    public_id = models.UUIDField(unique=True, editable=False)
    application = models.ForeignKey(
        RegistrationApplication,
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
        help_text="None only for a hold's evidence.",
    )
    clearance_request = models.ForeignKey(
        "clearance.ClearanceRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    doc_type = models.CharField("document type", max_length=30, choices=Type.choices)
    original_name = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100, help_text="Read from the content, not the name.")
    size = models.PositiveIntegerField(help_text="Bytes of the original file.")
    sha256 = models.CharField(max_length=64, help_text="Of the original file, before sealing.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    storage_backend = models.CharField(max_length=20, choices=Storage.choices)
    location = models.CharField(max_length=300, help_text="Path, IPFS CID or object key.")
    # Client-side sealing (IPFS): algorithm, nonce, the wrapped per-document key, master key id.
    encryption = models.JSONField(default=dict, blank=True)
    ledger_change_id = models.UUIDField(unique=True, null=True, blank=True)
    # The last integrity check (upload, download, verify_documents): when, and what it found.
    checked_at = models.DateTimeField(null=True, blank=True)
    check_ok = models.BooleanField(null=True)
    check_detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["check_ok"], name="document_check_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(application__isnull=False)
                | Q(doc_type__in=["hold_evidence", "hold_lift_evidence"]),
                name="document_of_application_or_hold",
                violation_error_message="Only a hold's evidence has no application.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} for {self.application or 'a hold'}"

    @property
    def owner_id(self) -> int | None:
        # A hold's evidence has no owner who may see it.
        return self.application.applicant_id if self.application else None

    @property
    def belongs_to(self) -> str:
        """What the document is evidence for, as people read it (messages, logs)."""
        return self.application.reference if self.application else "a hold"

    @property
    def change_id(self) -> uuid.UUID | None:
        """The anchor's ledger change id, named as on history rows so receipts read alike."""
        return self.ledger_change_id

    @property
    def cid(self) -> str:
        return self.location if self.storage_backend == self.Storage.IPFS else ""

    @property
    def is_viewable_inline(self) -> bool:
        return self.media_type in {"application/pdf", "image/png", "image/jpeg"}


def new_certificate_number() -> str:
    """A Certificate of Registration number: "CR-" and ten digits, random so that numbers
    reveal nothing about how many were issued or when."""
    return "CR-" + "".join(secrets.choice("0123456789") for _position in range(10))


class OwnershipPeriod(TimestampedModel, RecordedOnLedger):
    """Who owned a vehicle, from when to when, and how they came to own it.

    The vehicle's owner is the owner of its one open period (``ended_on`` empty). A period a
    transfer began carries the receipt of the ledger's TransferOwnership change.
    """

    class Acquired(models.TextChoices):
        FIRST_REGISTRATION = "first_registration", _("First registration")
        TRANSFER = "transfer", _("Transfer of ownership")
        ORIGIN = "origin", _("Origin record")

    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="ownership_periods")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ownership_periods"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    acquired = models.CharField(max_length=20, choices=Acquired.choices)
    application = models.ForeignKey(
        RegistrationApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The application whose approval began this period.",
    )
    ledger_change_id = models.UUIDField(
        null=True, blank=True, unique=True, help_text="The transfer's change on the ledger."
    )

    class Meta:
        ordering = ["vehicle_id", "started_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(ended_on__isnull=True),
                name="one_open_ownership_per_vehicle",
                violation_error_message="This vehicle already has a current owner.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="ownership_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle} owned by {self.owner} from {self.started_on}"


class Certificate(TimestampedModel):
    """A Certificate of Registration (CR): the numbered ownership document.

    Issued at first registration and reissued to each new owner. It is never "expired" (a
    registration period expires, see ``RegistrationPeriod``): it stays valid until a newer
    certificate supersedes it or the LTO revokes it.
    """

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        SUPERSEDED = "superseded", _("Superseded")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(
        "CR number", max_length=16, unique=True, default=new_certificate_number
    )
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="certificates")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    application = models.ForeignKey(
        RegistrationApplication,
        on_delete=models.PROTECT,
        related_name="certificates",
        help_text="The application whose approval issued it.",
    )
    issued_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.VALID, db_index=True
    )
    superseded_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
    )
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was superseded or revoked."
    )
    revoked_reason = models.TextField(blank=True)
    status_index = models.BigIntegerField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Its bit in the public revocation status lists (registry.status_list), "
        "drawn when its credential is first issued.",
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(status="valid"),
                name="one_valid_certificate_per_vehicle",
                violation_error_message="This vehicle already has a valid certificate.",
            ),
            models.CheckConstraint(
                condition=Q(status="valid", ended_at__isnull=True)
                | (~Q(status="valid") & Q(ended_at__isnull=False)),
                name="certificate_ended_unless_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | ~Q(revoked_reason=""),
                name="certificate_revoked_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.status})"


class RegistrationPeriod(TimestampedModel):
    """The validity an owner renews: the vehicle may be driven from ``valid_from`` to
    ``valid_to`` (inclusive). It is ``current`` until that day has passed, then ``expired``."""

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="registration_periods"
    )
    application = models.OneToOneField(
        RegistrationApplication,
        on_delete=models.PROTECT,
        related_name="registration_period",
        help_text="The approved application (registration or renewal) that granted it.",
    )
    valid_from = models.DateField()
    valid_to = models.DateField()
    ended_on = models.DateField(
        null=True,
        blank=True,
        help_text="Cut short: the day the vehicle was deregistered (not current from then).",
    )

    class Meta:
        ordering = ["vehicle_id", "-valid_to"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")),
                name="registration_period_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.vehicle}: {self.valid_from} to {self.valid_to}"

    def is_current(self, today: date) -> bool:
        cut_short = self.ended_on is not None and today >= self.ended_on
        return self.valid_from <= today <= self.valid_to and not cut_short

    def status_on(self, today: date) -> str:
        if self.ended_on is not None and today >= self.ended_on:
            return "ended"
        if today > self.valid_to:
            return "expired"
        return "current" if today >= self.valid_from else "not yet started"


class Sale(TimestampedModel):
    """A seller's offer of a registered vehicle to one buyer, before any application exists.

    The buyer is named by e-mail and answers through a signed link; accepting files the
    transfer application with the buyer as applicant, and the LTO's approval of it moves the
    ownership (registry.records). The seller may file the notice of sale (release of
    liability) at handover, whether or not the buyer has answered.

    A dealer's sale of a new vehicle is the same offer with ``origin`` set instead of
    ``vehicle``: the seller is the dealer's officer who sent it, the vehicle does not exist
    until the buyer accepts, and accepting files the buyer's new registration of a vehicle made
    from the origin record (``vehicle`` is set then).
    """

    class Status(models.TextChoices):
        AWAITING_BUYER = "awaiting_buyer", _("Awaiting the buyer")
        ACCEPTED = "accepted", _("Accepted: transfer application filed")
        DECLINED = "declined", _("Declined by the buyer")
        WITHDRAWN = "withdrawn", _("Withdrawn by the seller")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled by the LTO")
        COMPLETED = "completed", _("Completed: ownership transferred")

    OPEN = (Status.AWAITING_BUYER, Status.ACCEPTED)

    public_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="sales", null=True, blank=True
    )
    origin = models.ForeignKey(
        "OriginRecord",
        on_delete=models.PROTECT,
        related_name="sales",
        null=True,
        blank=True,
        help_text="The dealer's origin record sold (a new vehicle's first sale).",
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales_as_seller"
    )
    buyer_email = models.EmailField()
    buyer_mobile = models.CharField(max_length=20, blank=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales_as_buyer",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.AWAITING_BUYER, db_index=True
    )
    expires_at = models.DateTimeField(help_text="The buyer's link stops working then.")
    # Set once the invitation e-mail went out; a sweep re-sends those still unset.
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    application = models.OneToOneField(
        RegistrationApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sale",
        help_text="The transfer application the buyer's acceptance filed.",
    )
    notice_of_sale_on = models.DateField(
        null=True, blank=True, help_text="The handover date the seller's notice of sale gives."
    )
    notice_filed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(status__in=["awaiting_buyer", "accepted"]),
                name="one_open_sale_per_vehicle",
                violation_error_message="This vehicle already has a sale open.",
            ),
            models.UniqueConstraint(
                fields=["origin"],
                condition=Q(status__in=["awaiting_buyer", "accepted"]),
                name="one_open_sale_per_origin",
                violation_error_message="This vehicle already has a sale open.",
            ),
            models.CheckConstraint(
                condition=Q(vehicle__isnull=False) | Q(origin__isnull=False),
                name="sale_of_a_vehicle_or_an_origin",
            ),
        ]

    def __str__(self) -> str:
        return f"Sale of {self.subject} to {self.buyer_email} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def subject(self) -> Vehicle | OriginRecord:
        """What is sold: the vehicle, or (a dealer's sale before acceptance) its origin."""
        if self.vehicle is not None:
            return self.vehicle
        assert self.origin is not None  # one of the two, which the database checks
        return self.origin


class OriginRecord(TimestampedModel, RecordedOnLedger):
    """A new vehicle's birth record, by the accredited dealer or importer that sells it.

    Recorded once per VIN, for ever, before any owner exists, and signed on the ledger by the
    dealer (chaincode RecordOrigin; only the digest of these fields goes there). The buyer's
    first registration makes its vehicle from these numbers (``vehicle``), so the owner never
    types them.
    """

    dealer = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="origin_records",
        limit_choices_to={"kind": "DEALER"},
    )
    vin = models.CharField("VIN", max_length=17, unique=True, validators=[vin_validator])
    engine_number = models.CharField(max_length=30, unique=True)
    chassis_number = models.CharField(max_length=30, unique=True)
    make = models.CharField(max_length=60)
    model = models.CharField(max_length=60)
    year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    body_type = models.CharField(max_length=20, choices=Vehicle.BodyType.choices)
    colour = models.CharField(max_length=40)
    fuel = models.CharField(max_length=20, choices=Vehicle.Fuel.choices)
    csr_number = models.CharField(
        "CSR number", max_length=40, help_text="The certificate of stock reported."
    )
    invoice_number = models.CharField("sales invoice number", max_length=40)
    invoice_date = models.DateField("sales invoice date")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    record_digest = models.CharField(max_length=64, help_text="SHA-256 of the declared fields.")
    ledger_change_id = models.UUIDField(unique=True)
    vehicle = models.OneToOneField(
        Vehicle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="origin",
        help_text="The vehicle it became, when its buyer accepted the dealer's sale.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.year} {self.make} {self.model} ({self.vin}) from {self.dealer}"


# What a dealer declares of a vehicle and its buyer's vehicle is made from, unchanged.
ORIGIN_VEHICLE_FIELDS = (
    "vin",
    "engine_number",
    "chassis_number",
    "make",
    "model",
    "year",
    "body_type",
    "colour",
    "fuel",
)


class OriginFlag(TimestampedModel):
    """An owner's hand-entered vehicle whose numbers match a dealer's origin record, filed
    for the LTO to decide instead of refused (registry.origins, the squatting rule).

    Until LTO staff clear it with a note, its registration cannot be approved; the LTO may
    reject the application instead.
    """

    vehicle = models.OneToOneField(Vehicle, on_delete=models.PROTECT, related_name="origin_flag")
    origin = models.ForeignKey(OriginRecord, on_delete=models.PROTECT, related_name="flags")
    matched = models.CharField(max_length=80, help_text="Which numbers match the origin record.")
    owner_reason = models.TextField(help_text="Why the owner says the vehicle is theirs.")
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    clear_note = models.TextField(blank=True)

    def __str__(self) -> str:
        state = "cleared" if self.cleared_at else "open"
        return f"{self.vehicle}: {self.matched} match {self.origin} ({state})"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class Deregistration(TimestampedModel, RecordedOnLedger):
    """A vehicle taken off the register for good by the LTO, with the reason and evidence.

    Final: its Certificate of Registration is revoked, its registration and ownership periods
    end, and its VIN, engine and chassis numbers are never recorded again. The ledger's
    DeregisterVehicle change (its receipt kept here) makes the chaincode refuse any later
    registration of the VIN.
    """

    # The codes are the chaincode's (chaincode.rules), so both sides accept the same reasons.
    Reason: type[models.TextChoices] = cast(Any, models.TextChoices)(
        "Reason",
        [
            (reason.name, (reason.value, reason.value.replace("_", " ").capitalize()))
            for reason in DeregistrationReason
        ],
    )

    vehicle = models.OneToOneField(Vehicle, on_delete=models.PROTECT, related_name="deregistration")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    evidence = models.OneToOneField(
        Document,
        on_delete=models.PROTECT,
        related_name="deregistration",
        help_text="The certificate of scrapping, export papers or insurer's total-loss finding.",
    )
    note = models.TextField(help_text="The officer's note; kept off the ledger.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    deregistered_on = models.DateField()
    ledger_change_id = models.UUIDField(
        unique=True, help_text="The deregistration's change on the ledger."
    )

    class Meta:
        ordering = ["-deregistered_on", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.vehicle} deregistered on {self.deregistered_on} ({self.get_reason_display()})"
        )


class DocumentRequirement(TimestampedModel):
    """A paper an application type needs before it can be filed, and who uploads it.

    Data, edited in the admin: a new requirement takes effect at the next filing, and a
    retired one (``is_active`` off) stops blocking filings while applications already filed
    keep their documents.
    """

    class FiledBy(models.TextChoices):
        APPLICANT = "applicant", _("The applicant")
        SELLER = "seller", _("The seller (transfers)")

    application_type = models.CharField(max_length=20, choices=RegistrationApplication.Type.choices)
    doc_type = models.CharField("document type", max_length=30, choices=Document.Type.choices)
    filed_by = models.CharField(
        "uploaded by",
        max_length=20,
        choices=FiledBy.choices,
        default=FiledBy.APPLICANT,
        help_text="Who uploads it: the applicant, or the seller of a transferred vehicle.",
    )
    description = models.CharField(
        max_length=300, blank=True, help_text="Shown to the owner beside the item."
    )
    is_active = models.BooleanField(
        "in force",
        default=True,
        help_text="Untick to retire the requirement without deleting it: it no longer blocks "
        "a filing.",
    )

    class Meta:
        ordering = ["application_type", "doc_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["application_type", "doc_type"],
                name="document_requirement_unique",
                violation_error_message="This application type already needs this document; "
                "edit that requirement (or put it back in force) instead.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_application_type_display()} needs {self.get_doc_type_display()}"


def new_hold_reference() -> str:
    """A hold's reference: "HOLD-" and eight digits, random so it tells nothing of others."""
    return "HOLD-" + "".join(secrets.choice("0123456789") for _position in range(8))


class Hold(TimestampedModel, RecordedOnLedger):
    """A hold ("alarm") on a VIN, placed by an organisation for a reason, with evidence.

    While it is active the vehicle is not renewed, transferred, deregistered or registered
    anew, and no clearance or registration of it is approved; only the organisation that placed
    it lifts it (with evidence). The ledger records both moves (PlaceHold, LiftHold) signed
    by that organisation; the receipt of placing it is this row's ledger columns, that of
    lifting it the ``lift_ledger_*`` columns. The VIN may name a vehicle Talaan does not have
    (yet): a stolen car reported before anyone tries to register it.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LIFTED = "lifted", _("Lifted")

    # The codes are the chaincode's (chaincode.rules), so both sides accept the same reasons.
    Reason: type[models.TextChoices] = cast(Any, models.TextChoices)(
        "Reason",
        [
            (reason.name, (reason.value, reason.value.replace("_", " ").capitalize()))
            for reason in HoldReason
        ],
    )

    reference = models.CharField(max_length=20, unique=True, default=new_hold_reference)
    vin = models.CharField("VIN", max_length=17, validators=[vin_validator], db_index=True)
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="holds", null=True, blank=True
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="holds"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(help_text="The placing office's own note; kept off the ledger.")
    evidence = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="hold_placed")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    ledger_change_id = models.UUIDField(unique=True, help_text="PlaceHold's change.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_note = models.TextField(blank=True, help_text="Kept off the ledger.")
    lift_evidence = models.OneToOneField(
        Document,
        on_delete=models.PROTECT,
        related_name="hold_lifted",
        null=True,
        blank=True,
    )
    lift_change_id = models.UUIDField(unique=True, null=True, blank=True)
    lift_ledger_backend = models.CharField(max_length=20, blank=True)
    lift_ledger_tx_id = models.CharField(max_length=128, blank=True, db_index=True)
    lift_ledger_block = models.BigIntegerField(null=True, blank=True)
    lift_ledger_timestamp = models.DateTimeField(null=True, blank=True)
    lift_ledger_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", lifted_at__isnull=True)
                | Q(status="lifted", lifted_at__isnull=False, lift_change_id__isnull=False),
                name="hold_lifted_has_its_lifting",
                violation_error_message="A lifted hold says when and how it was lifted.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} on {self.vin} ({self.get_status_display().lower()})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def change_id(self) -> uuid.UUID:
        """The placing's ledger change id, named as on history rows so receipts read alike."""
        return self.ledger_change_id


def new_mortgage_reference() -> str:
    """A chattel mortgage's reference, read like an application's: "MTG-" and eight letters or
    digits with no 0/O or 1/I/L to confuse."""
    return "MTG-" + new_reference().removeprefix("TLN-")


class Mortgage(TimestampedModel, RecordedOnLedger):
    """A chattel mortgage a lender holds on a registered vehicle, with its owner's consent.

    The lender proposes it; the owner's consent annotates it on the ledger in the same
    transaction (AnnotateMortgage, signed by the lender: its receipt is kept here); while it is
    annotated the vehicle is encumbered, and only the same lender releases it
    (``MortgageRelease``). The ledger holds the reference, the VIN, the lender's code and the
    SHA-256 of the consent statement: no amounts, no names.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting the owner's consent")
        ANNOTATED = "annotated", _("Annotated: the vehicle is encumbered")
        DECLINED = "declined", _("Declined by the owner")
        WITHDRAWN = "withdrawn", _("Withdrawn by the lender")
        RELEASED = "released", _("Released by the lender")

    OPEN = (Status.PROPOSED, Status.ANNOTATED)

    reference = models.CharField(max_length=16, unique=True, default=new_mortgage_reference)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="mortgages")
    lender = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="mortgages",
        limit_choices_to={"kind": "LENDER"},
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mortgages_as_owner",
        help_text="The registered owner asked to consent.",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True
    )
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner consented or declined."
    )
    consent_digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the consent statement (on the ledger)."
    )
    ledger_change_id = models.UUIDField(
        null=True, blank=True, unique=True, help_text="The annotation's change on the ledger."
    )
    released_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True, help_text="Why it was declined or withdrawn.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(status__in=["proposed", "annotated"]),
                name="one_open_mortgage_per_vehicle",
                violation_error_message="This vehicle already has a mortgage open.",
            ),
            models.CheckConstraint(
                condition=~Q(status="annotated") | ~Q(consent_digest=""),
                name="mortgage_annotated_with_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"Mortgage {self.reference} on {self.vehicle} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ANNOTATED


class MortgageRelease(TimestampedModel, RecordedOnLedger):
    """The lender's release of its mortgage (ReleaseMortgage on the ledger, its receipt here)."""

    mortgage = models.OneToOneField(Mortgage, on_delete=models.PROTECT, related_name="release")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a release written back from the ledger, which names no person.",
    )
    ledger_change_id = models.UUIDField(
        unique=True, help_text="The release's change on the ledger."
    )

    def __str__(self) -> str:
        return f"Release of {self.mortgage.reference}"
