"""How drf-spectacular documents fields whose rules it leaves out (registered in apps.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema


class ListFieldThatMayNotBeEmpty(OpenApiSerializerFieldExtension):
    """A ``ListField(allow_empty=False)`` refuses ``[]`` (400): the schema says minItems 1."""

    target_class = "rest_framework.fields.ListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not self.target.allow_empty and isinstance(schema, dict):
            schema.setdefault("minItems", 1)
        return schema
