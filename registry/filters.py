"""Query filters of the application list."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from api.filters import UtcIsoDateTimeFilter
from registry.models import RegistrationApplication
from registry.search import search_applications


class ApplicationFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="filter_q",
        max_length=60,
        label="Only applications this text names, as the LTO's search box finds them: a "
        "reference, VIN or plate (any case, spaces or not), the owner's username, e-mail, "
        "first, last or full name, or the vehicle's make or model.",
    )
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

    def filter_q(
        self, queryset: QuerySet[RegistrationApplication], name: str, value: str
    ) -> QuerySet[RegistrationApplication]:
        return search_applications(queryset, value)

    def filter_vin(
        self, queryset: QuerySet[RegistrationApplication], name: str, value: str
    ) -> QuerySet[RegistrationApplication]:
        # VINs are stored upper-case without spaces: the query in that form uses the index
        # (an iexact match would upper-case every stored VIN and read them all).
        return queryset.filter(vehicle__vin="".join(value.split()).upper())
