"""Query filters of the application list."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from api.filters import UtcIsoDateTimeFilter
from registry.models import RegistrationApplication


class ApplicationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=RegistrationApplication.Status.choices, label="Only applications in this status."
    )
    type = filters.ChoiceFilter(
        choices=RegistrationApplication.Type.choices, label="Only applications of this type."
    )
    vin = filters.CharFilter(
        method="filter_vin",
        max_length=17,
        label="Only applications for the vehicle with this VIN.",
    )
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        label="Only applications created at or after this time (ISO 8601).",
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        label="Only applications created before this time (ISO 8601).",
    )

    class Meta:
        model = RegistrationApplication
        fields: list[str] = []

    def filter_vin(
        self, queryset: QuerySet[RegistrationApplication], name: str, value: str
    ) -> QuerySet[RegistrationApplication]:
        # VINs are stored upper-case without spaces: the query in that form uses the index
        # (an iexact match would upper-case every stored VIN and read them all).
        return queryset.filter(vehicle__vin="".join(value.split()).upper())
