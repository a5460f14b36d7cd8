"""Serializers shared by the clearance operations: findings (each kind's own), requests, changes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from api.serializers import LedgerReceiptSerializer
from clearance import kinds
from clearance.models import ClearanceRequest, ClearanceStatusChange


def _findings_serializers() -> list[type[serializers.Serializer]]:
    # Read when the schema is first generated, once every kind is registered.
    return [kind.serializer for kind in kinds.kinds()]


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="Findings",
        serializers=_findings_serializers,
        resource_type_field_name=None,
    )
)
class FindingsField(serializers.DictField):
    """The findings object of the request's kind; parsed once the request's kind is known."""


class FindingsOfAnotherKind(serializers.ValidationError):
    """Another kind's findings. The schema accepts any kind's findings (it cannot know the
    request's kind), so they are refused by the request, as a 422, not as a malformed body."""

    status_code = 422


def _other_kinds_fields(kind: kinds.ClearanceKind[Any]) -> set[str]:
    def names(serializer: serializers.Serializer) -> set[str]:
        return {str(name) for name in serializer.fields}

    own = names(kind.serializer())
    return {name for other in kinds.kinds() for name in names(other.serializer())} - own


def parse_findings(kind: str, data: dict[str, Any] | None) -> object | None:
    """Turn a findings object into the kind's dataclass: a 422 for another kind's findings
    (they lack this kind's fields and carry another's), else a 400 naming the bad fields."""
    if data is None:
        return None
    clearance_kind = kinds.kind(kind)
    serializer = clearance_kind.serializer(data=data)
    if not serializer.is_valid():
        missing = [
            name for name, field in serializer.fields.items() if field.required and name not in data
        ]
        if missing and set(data) & _other_kinds_fields(clearance_kind):
            raise FindingsOfAnotherKind(
                {
                    "findings": [
                        f"These are not {clearance_kind.label} findings: "
                        f"{', '.join(missing)} missing."
                    ]
                }
            )
        raise serializers.ValidationError({"findings": serializer.errors})
    return clearance_kind.findings(**serializer.validated_data)


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
