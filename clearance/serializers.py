"""Serializers shared by the clearance operations: findings per kind, requests, changes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from api.serializers import LedgerReceiptSerializer
from chaincode.rules import OrgKind
from clearance.details import EmissionReadings, Findings, HpgFindings, InsuranceCover
from clearance.models import ClearanceRequest, ClearanceStatusChange, HpgClearanceDetail


class HpgFindingsSerializer(serializers.Serializer):
    engine_number_checked = serializers.CharField(max_length=30)
    chassis_number_checked = serializers.CharField(max_length=30)
    macro_etching_result = serializers.ChoiceField(HpgClearanceDetail.MacroEtching.choices)
    stolen_vehicle_check = serializers.ChoiceField(HpgClearanceDetail.StolenCheck.choices)
    certificate_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


class InsuranceCoverSerializer(serializers.Serializer):
    insurer = serializers.CharField(max_length=120)
    coc_number = serializers.CharField(max_length=40)
    coverage_start = serializers.DateField()
    coverage_end = serializers.DateField()


class EmissionReadingsSerializer(serializers.Serializer):
    testing_centre = serializers.CharField(max_length=120)
    certificate_number = serializers.CharField(max_length=40, allow_blank=True)
    test_date = serializers.DateField()
    fuel = serializers.CharField(max_length=20)
    co_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    hc_ppm = serializers.IntegerField(min_value=0)
    opacity_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )


_FINDINGS = {
    OrgKind.HPG: (HpgFindingsSerializer, HpgFindings),
    OrgKind.INSURANCE: (InsuranceCoverSerializer, InsuranceCover),
    OrgKind.EMISSION: (EmissionReadingsSerializer, EmissionReadings),
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="Findings",
        serializers=[HpgFindingsSerializer, InsuranceCoverSerializer, EmissionReadingsSerializer],
        resource_type_field_name=None,
    )
)
class FindingsField(serializers.DictField):
    """The findings object of the request's kind; parsed once the request's kind is known."""


def parse_findings(kind: str, data: dict[str, Any] | None) -> Findings | None:
    """Turn a findings object into the kind's dataclass, or a 400 naming the bad fields."""
    if data is None:
        return None
    serializer_class, dataclass = _FINDINGS[OrgKind(kind)]
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError({"findings": serializer.errors})
    return dataclass(**serializer.validated_data)


class StatusChangeSerializer(serializers.ModelSerializer):
    """One history row with its ledger receipt; names and remarks stay off the API history."""

    ledger = LedgerReceiptSerializer(source="*")
    organisation = serializers.CharField(source="organisation.code")

    class Meta:
        model = ClearanceStatusChange
        fields = ["change_id", "from_status", "to_status", "organisation", "created_at", "ledger"]


class ClearanceSummarySerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="application.reference")
    organisation = serializers.CharField(source="organisation.code")
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True)

    class Meta:
        model = ClearanceRequest
        fields = [
            "id",
            "public_id",
            "application",
            "kind",
            "organisation",
            "status",
            "assigned_to",
            "due_at",
            "decided_at",
            "created_at",
            "updated_at",
        ]
