"""Query filters of the clearance list."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from api.filters import UtcIsoDateTimeFilter
from clearance import kinds
from clearance.models import ClearanceRequest, Status


class ClearanceFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices, label="Only requests in this status.")
    kind = filters.ChoiceFilter(
        choices=kinds.choices, label="Only requests of this clearance kind."
    )
    application = filters.CharFilter(
        method="filter_application",
        max_length=16,
        label="Only requests for the application with this reference, e.g. TLN-7KQ2M9XA.",
    )
    due_before = UtcIsoDateTimeFilter(
        field_name="due_at",
        lookup_expr="lt",
        label="Only requests due before this time (ISO 8601), e.g. to find overdue ones.",
    )
    due_after = UtcIsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label="Only requests due at or after this time."
    )

    class Meta:
        model = ClearanceRequest
        fields: list[str] = []

    def filter_application(
        self, queryset: QuerySet[ClearanceRequest], name: str, value: str
    ) -> QuerySet[ClearanceRequest]:
        # References are upper-case: the query in that form uses the unique index.
        return queryset.filter(application__reference="".join(value.split()).upper())
