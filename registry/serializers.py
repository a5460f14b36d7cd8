"""Serializers shared by the registry operations."""

from __future__ import annotations

from typing import Literal

from rest_framework import serializers

from api.serializers import LedgerReceiptSerializer
from organisations.models import Office
from registry.models import (
    VEHICLE_DETAIL_FIELDS,
    Document,
    DocumentRequirement,
    RegistrationApplication,
    Vehicle,
)


class VehicleSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "vin", "make", "model", "year", "body_type", "fuel", "plate_number"]


class VehicleOriginSerializer(serializers.Serializer):
    """The dealer's origin record a vehicle was made from."""

    class Meta:
        ref_name = "VehicleOrigin"

    dealer = serializers.CharField(source="dealer.code", help_text="The dealer's code.")
    dealer_name = serializers.CharField(source="dealer.name")
    csr_number = serializers.CharField()
    invoice_number = serializers.CharField()
    invoice_date = serializers.DateField()
    ledger_tx_id = serializers.CharField(
        help_text="RecordOrigin's transaction, signed by the dealer."
    )


class OriginFlagSerializer(serializers.Serializer):
    """A hand-entered vehicle whose numbers match a dealer's origin record, for the LTO."""

    class Meta:
        ref_name = "OriginFlag"

    matched = serializers.CharField(help_text="Which numbers match the origin record.")
    origin_vin = serializers.CharField(source="origin.vin")
    origin_dealer = serializers.CharField(source="origin.dealer.code")
    owner_reason = serializers.CharField()
    is_open = serializers.BooleanField(help_text="Until the LTO clears it, no approval.")
    cleared_at = serializers.DateTimeField(allow_null=True)
    clear_note = serializers.CharField()


class VehicleDetailSerializer(serializers.ModelSerializer):
    """An owner's vehicle as they entered it (or its dealer's origin record declared), with
    what the LTO issued once registered."""

    came_from = serializers.SerializerMethodField(
        help_text="origin: made from a dealer's origin record; hand: entered by its owner."
    )
    origin = VehicleOriginSerializer(allow_null=True, read_only=True)
    origin_flag = OriginFlagSerializer(allow_null=True, read_only=True)

    class Meta:
        model = Vehicle
        fields = [
            "id",
            *VEHICLE_DETAIL_FIELDS,
            "plate_number",
            "mv_file_number",
            "came_from",
            "origin",
            "origin_flag",
            "created_at",
            "updated_at",
        ]
        ref_name = "Vehicle"

    def get_came_from(self, vehicle: Vehicle) -> Literal["origin", "hand"]:
        return "origin" if getattr(vehicle, "origin", None) is not None else "hand"


class VehicleInputSerializer(serializers.Serializer):
    """What an owner enters about a vehicle; the service normalises and checks uniqueness."""

    class Meta:
        ref_name = "VehicleInput"

    vin = serializers.CharField(
        max_length=17, help_text="17 characters (ISO 3779), as stamped on the chassis plate."
    )
    engine_number = serializers.CharField(max_length=30)
    chassis_number = serializers.CharField(max_length=30)
    make = serializers.CharField(max_length=60)
    model = serializers.CharField(max_length=60)
    year = serializers.IntegerField(min_value=1900, max_value=2100)
    body_type = serializers.ChoiceField(Vehicle.BodyType.choices)
    colour = serializers.CharField(max_length=40)
    fuel = serializers.ChoiceField(Vehicle.Fuel.choices)
    classification = serializers.ChoiceField(
        Vehicle.Classification.choices, required=False, default=Vehicle.Classification.PRIVATE
    )
    gvw_kg = serializers.IntegerField(
        min_value=50,
        max_value=60000,
        required=False,
        allow_null=True,
        default=None,
        help_text="Gross vehicle weight in kg, for the MVUC's weight band. Without it the "
        "assessment uses the class's lowest band and the LTO confirms at inspection.",
    )
    flag_reason = serializers.CharField(
        max_length=2000,
        required=False,
        default="",
        help_text="Only if an engine or chassis number is refused as on a dealer's origin "
        "record of another VIN: why these numbers are your vehicle's. The vehicle is then "
        "recorded flagged to the LTO, which decides (registry.origins: the squatting rule).",
    )


class ApplicationSummarySerializer(serializers.ModelSerializer):
    vehicle = VehicleSummarySerializer()
    office: serializers.SlugRelatedField[Office] = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The code of the LTO office it is filed at (null on rows from before offices).",
    )

    class Meta:
        model = RegistrationApplication
        fields = [
            "id",
            "reference",
            "type",
            "status",
            "office",
            "vehicle",
            "period_start",
            "period_end",
            "filed_late",
            "submitted_at",
            "decided_at",
            "created_at",
            "updated_at",
        ]


class ClearanceStatusSerializer(serializers.Serializer):
    """A clearance's status and the ledger receipt of its latest change."""

    kind = serializers.CharField()
    organisation = serializers.CharField(source="organisation.code")
    status = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    ledger = LedgerReceiptSerializer(source="latest_change", allow_null=True)


class RequiredDocumentSerializer(serializers.Serializer):
    """One paper the application's type needs (registry.document_services.ChecklistItem)."""

    class Meta:
        ref_name = "RequiredDocument"

    doc_type = serializers.ChoiceField(Document.Type.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not .label
    description = serializers.CharField(allow_blank=True)
    filed_by = serializers.ChoiceField(
        DocumentRequirement.FiledBy.choices, help_text="Who uploads it."
    )
    status = serializers.ChoiceField(
        [("uploaded", "Uploaded"), ("missing", "Missing")],
        help_text="`missing` ones make `submit` a 422 `documents_missing`.",
    )
