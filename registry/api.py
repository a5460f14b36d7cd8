"""REST operations on registration applications (owner scope) and the status lookup."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404, HttpResponseBase
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clearance.api_keys import SessionOnly, caller_key, clearance_requests_for_caller
from clearance.models import ClearanceStatusChange
from registry.models import RegistrationApplication
from registry.selectors import application_get_for_user, applications_for_user
from registry.serializers import ApplicationSummarySerializer, ClearanceStatusSerializer
from talaan.api import (
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED_RESPONSE,
    Cursor,
    conditional_response,
    page_of,
    problem_responses,
)

TAGS = ["applications"]


def _with_latest_changes(application: RegistrationApplication, request: Request) -> list:
    """The application's clearances the caller may see, each with its latest change."""
    clearances = list(
        clearance_requests_for_caller(request)
        .filter(application=application)
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=ClearanceStatusChange.objects.order_by("-created_at", "-id"),
                to_attr="changes_newest_first",
            )
        )
        .order_by("kind")
    )
    for clearance in clearances:
        clearance.latest_change = next(iter(clearance.changes_newest_first), None)
    return clearances


class ApplicationListApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class OutputSerializer(ApplicationSummarySerializer):
        class Meta(ApplicationSummarySerializer.Meta):
            ref_name = "ApplicationSummary"

    @extend_schema(
        operation_id="applications_list",
        tags=TAGS,
        summary="List the applications the signed-in person may see",
        description="Owners see their own; LTO staff every one; officers those sent to them.",
        parameters=[
            OpenApiParameter("cursor", str, description="The `next`/`previous` page cursor."),
            OpenApiParameter("page_size", int, description="At most 200; 50 by default."),
        ],
        responses={
            200: page_of(OutputSerializer, "ApplicationPage"),
            **problem_responses(401, 403, 429),
        },
    )
    def get(self, request: Request) -> Response:
        paginator = Cursor()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(applications_for_user(request.user), request, self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ApplicationDetailApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class OutputSerializer(ApplicationSummarySerializer):
        remarks = serializers.CharField()
        clearances = ClearanceStatusSerializer(many=True)

        class Meta(ApplicationSummarySerializer.Meta):
            fields = [*ApplicationSummarySerializer.Meta.fields, "remarks", "clearances"]
            ref_name = "ApplicationDetail"

    @extend_schema(
        operation_id="applications_retrieve",
        tags=TAGS,
        summary="One application with its clearances",
        description="Answers with an `ETag`; send it back in `If-None-Match` to get 304.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses={
            200: OutputSerializer,
            304: NOT_MODIFIED_RESPONSE,
            **problem_responses(401, 403, 404, 429),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        application = application_get_for_user(user=request.user, pk=pk)
        application.clearances = _with_latest_changes(application, request)
        return conditional_response(request, self.OutputSerializer(application).data)


class StatusLookupApi(APIView):
    class FilterSerializer(serializers.Serializer):
        reference = serializers.CharField(required=False, max_length=16)
        vin = serializers.CharField(required=False, max_length=17)
        plate = serializers.CharField(required=False, max_length=10)

        def validate(self, attrs: dict) -> dict:
            if len(attrs) != 1:
                raise serializers.ValidationError("Give exactly one of reference, vin or plate.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApplicationStatus"

        reference = serializers.CharField()
        type = serializers.CharField()
        status = serializers.CharField()
        updated_at = serializers.DateTimeField()
        clearances = ClearanceStatusSerializer(many=True)

    @extend_schema(
        operation_id="status_lookup",
        tags=["status"],
        summary="The status of the latest application by reference, VIN or plate",
        description=(
            "Statuses and ledger receipts only, no personal data. A key or officer sees the "
            "applications sent to its organisation and only that organisation's clearances. "
            "Answers with an `ETag`; send it back in `If-None-Match` to get 304."
        ),
        parameters=[FilterSerializer, IF_NONE_MATCH_PARAMETER],
        responses={
            200: OutputSerializer,
            304: NOT_MODIFIED_RESPONSE,
            **problem_responses(400, 401, 403, 404, 429),
        },
        examples=[
            OpenApiExample(
                "Awaiting clearances",
                response_only=True,
                value={
                    "reference": "TLN-7KQ2M9XA",
                    "type": "new",
                    "status": "awaiting_clearances",
                    "updated_at": "2026-11-20T03:15:00Z",
                    "clearances": [
                        {
                            "kind": "HPG",
                            "organisation": "hpg",
                            "status": "approved",
                            "decided_at": "2026-11-20T03:15:00Z",
                            "ledger": {
                                "backend": "embedded",
                                "tx_id": "9b0f…",
                                "block": 42,
                                "timestamp": "2026-11-20T03:15:00Z",
                            },
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> HttpResponseBase:
        lookup = self.FilterSerializer(data=request.query_params)
        lookup.is_valid(raise_exception=True)
        field, value = next(iter(lookup.validated_data.items()))
        column = {"reference": "reference", "vin": "vehicle__vin", "plate": "vehicle__plate_number"}
        applications = applications_for_user(request.user).filter(
            **{column[field]: value.strip().upper()}
        )
        key = caller_key(request)
        if key is not None:
            applications = applications.filter(
                clearance_requests__organisation_id=key.organisation_id
            ).distinct()
        # The funnel prefetches every clearance; the lookup shows only the caller's.
        application = applications.prefetch_related(None).order_by("-created_at").first()
        if application is None:
            raise Http404("No application you may see matches.")
        application.clearances = _with_latest_changes(application, request)
        return conditional_response(request, self.OutputSerializer(application).data)
