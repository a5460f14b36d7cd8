"""The helpers every API list uses to apply and document a django-filter FilterSet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request


def filtered(
    filterset_class: type[filters.FilterSet], request: Request, queryset: QuerySet
) -> QuerySet:
    """The queryset narrowed by the request's filters; a 400 naming each bad parameter.

    A parameter sent empty is refused unless it is free text: django-filter would ignore
    ``?status=``, serving everything for a value the schema does not allow.
    """
    empty = {
        name: ["Give a value, or leave the parameter out."]
        for name, filter_ in filterset_class.base_filters.items()
        if name in request.query_params
        and request.query_params[name] == ""
        and not _is_free_text(filter_)
    }
    if empty:
        raise serializers.ValidationError(empty)
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise serializers.ValidationError(filterset.errors)
    return filterset.qs


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO allows."""

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(_("This time is out of range."), code="invalid") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


_TYPES = {
    filters.IsoDateTimeFilter: OpenApiTypes.DATETIME,
    filters.DateFilter: OpenApiTypes.DATE,
    filters.NumberFilter: OpenApiTypes.NUMBER,
    filters.BooleanFilter: OpenApiTypes.BOOL,
}


def _type(filter_: filters.Filter) -> OpenApiTypes:
    for filter_class, openapi_type in _TYPES.items():
        if isinstance(filter_, filter_class):
            return openapi_type
    return OpenApiTypes.STR


def _is_free_text(filter_: filters.Filter) -> bool:
    return _type(filter_) == OpenApiTypes.STR and not filter_.extra.get("choices")


def filter_parameters(filterset_class: type[filters.FilterSet]) -> list[OpenApiParameter]:
    """The FilterSet's filters as documented query parameters, choices as enums, text with
    its longest length."""
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        choices = filter_.extra.get("choices")
        if callable(choices):  # choices read from a registry, as they stand when documented
            choices = choices()
        openapi_type: OpenApiTypes | dict[str, Any] = _type(filter_)
        if _is_free_text(filter_) and filter_.extra.get("max_length"):
            openapi_type = {"type": "string", "maxLength": filter_.extra["max_length"]}
        parameters.append(
            OpenApiParameter(
                name,
                openapi_type,
                OpenApiParameter.QUERY,
                required=False,
                description=str(filter_.label or ""),
                enum=[value for value, _ in choices] if choices else None,
            )
        )
    return parameters
