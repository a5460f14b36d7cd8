"""Cursor pages: the paginator every list uses and the schema of one page."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, pagination, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class Cursor(CursorPagination):
    """Stable pages however rows are added meanwhile; 50 a page unless ?page_size= says less.

    A cursor we did not give out is a bad request (400 ``invalid``, naming ``cursor``), not
    DRF's 404: the list exists, the parameter is wrong. So is a ``page_size`` that is not a
    whole number from 1 to 200 (DRF quietly served the default page for ``abc`` or ``-3``).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        gettext(
                            "A whole number from 1 to %(largest)s; leave it out for %(default)s."
                        )
                        % {"largest": self.max_page_size, "default": self.page_size}
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {
                    self.cursor_query_param: [
                        gettext("Not a cursor from this list; start from page one.")
                    ]
                }
            ) from None


def page_of(output: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The schema of one cursor page of ``output`` objects."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": output(many=True),
        },
    )


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next`/`previous` page cursor."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": Cursor.max_page_size, "default": 50},
        description="Rows a page, 1 to 200; 50 by default. Anything else is 400 `invalid`.",
    ),
]
