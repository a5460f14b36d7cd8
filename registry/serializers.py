"""Serializers shared by the registry operations."""

from __future__ import annotations

from rest_framework import serializers

from clearance.serializers import LedgerReceiptSerializer
from registry.models import RegistrationApplication, Vehicle


class VehicleSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "vin", "make", "model", "year", "body_type", "fuel", "plate_number"]


class ApplicationSummarySerializer(serializers.ModelSerializer):
    vehicle = VehicleSummarySerializer()

    class Meta:
        model = RegistrationApplication
        fields = [
            "id",
            "reference",
            "type",
            "status",
            "vehicle",
            "period_start",
            "period_end",
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
