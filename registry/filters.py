"""Query filters of the application list."""

from __future__ import annotations

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
        field_name="vehicle__vin",
        lookup_expr="iexact",
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
