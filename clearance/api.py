"""REST operations on clearance requests: list, detail, claim, decide.

Each class parses input, calls one selector or service, and renders; errors propagate to
``api.problems.problem_exception_handler``.
"""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.conditional import IF_NONE_MATCH_PARAMETER, conditional_response, conditional_responses
from api.filters import filter_parameters, filtered
from api.idempotency import idempotent
from api.pagination import PAGE_PARAMETERS, Cursor, page_of
from api.problems import problem_responses
from chaincode.rules import CLEARANCE_DECISIONS, ClearanceStatus
from clearance import services
from clearance.filters import ClearanceFilter
from clearance.models import ClearanceStatusChange
from clearance.selectors import clearance_request_get_for, clearance_requests_for
from clearance.serializers import (
    ClearanceSummarySerializer,
    FindingsField,
    StatusChangeSerializer,
    parse_findings,
)
from organisations.access import Action, Caller

TAGS = ["clearances"]
_HISTORY = Prefetch(
    "status_changes",
    queryset=ClearanceStatusChange.objects.select_related("organisation").order_by(
        "created_at", "id"
    ),
)


class ClearanceListApi(APIView):
    class OutputSerializer(ClearanceSummarySerializer):
        class Meta(ClearanceSummarySerializer.Meta):
            ref_name = "ClearanceSummary"

    @extend_schema(
        operation_id="clearances_list",
        tags=TAGS,
        summary="List the clearance requests the caller may see",
        description=(
            "An organisation's key or officer sees that organisation's requests; LTO staff see "
            "every request; an owner sees the requests for their own applications. Ordered by "
            "due time, paged by cursor. An invalid filter value is a 400 naming the parameter."
        ),
        parameters=[
            *filter_parameters(ClearanceFilter),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: page_of(OutputSerializer, "ClearancePage"),
            **problem_responses(400, 401, 403, 429),
        },
    )
    def get(self, request: Request) -> Response:
        requests = filtered(ClearanceFilter, request, clearance_requests_for(Caller.of(request)))
        paginator = Cursor()
        paginator.ordering = ("due_at", "id")
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ClearanceDetailApi(APIView):
    class OutputSerializer(ClearanceSummarySerializer):
        class VehicleSerializer(serializers.Serializer):
            class Meta:
                ref_name = "VehicleToCheck"

            vin = serializers.CharField()
            engine_number = serializers.CharField()
            chassis_number = serializers.CharField()
            make = serializers.CharField()
            model = serializers.CharField()
            year = serializers.IntegerField()
            fuel = serializers.CharField()
            plate_number = serializers.CharField(allow_null=True)

        vehicle = VehicleSerializer(source="application.vehicle")
        period_start = serializers.DateField(source="application.period_start")
        period_end = serializers.DateField(source="application.period_end")
        remarks = serializers.CharField()
        history = StatusChangeSerializer(source="status_changes", many=True)

        class Meta(ClearanceSummarySerializer.Meta):
            fields = [
                *ClearanceSummarySerializer.Meta.fields,
                "vehicle",
                "period_start",
                "period_end",
                "remarks",
                "history",
            ]
            ref_name = "ClearanceDetail"

    @extend_schema(
        operation_id="clearances_retrieve",
        tags=TAGS,
        summary="One clearance request with the vehicle to check and its ledgered history",
        description="Answers with an `ETag`; send it back in `If-None-Match` to get 304.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(OutputSerializer),
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        clearance = clearance_request_get_for(Caller.of(request), pk)
        prefetch_related_objects([clearance], _HISTORY)
        return conditional_response(request, self.OutputSerializer(clearance).data)


class ChangeOutputSerializer(StatusChangeSerializer):
    """The status change a write made, with its ledger receipt."""

    class Meta(StatusChangeSerializer.Meta):
        ref_name = "ClearanceChange"


class ClearanceClaimApi(APIView):
    required_action = Action.CLAIM

    @extend_schema(
        operation_id="clearances_claim",
        tags=TAGS,
        summary="Take a pending request into review",
        request=None,
        responses={
            200: ChangeOutputSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        clearance = clearance_request_get_for(Caller.of(request), pk)
        change = services.clearance_claim(request_id=clearance.pk, officer=request.user)
        return Response(ChangeOutputSerializer(change).data)


class ClearanceDecideApi(APIView):
    required_action = Action.DECIDE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ClearanceDecision"

        decision = serializers.ChoiceField([str(d) for d in CLEARANCE_DECISIONS])
        remarks = serializers.CharField(
            allow_blank=True,
            required=False,
            default="",
            help_text="Required when rejecting or returning. Kept off the ledger (digest only).",
        )
        findings = FindingsField(
            required=False,
            allow_null=True,
            help_text="The findings object of the request's kind; required to approve.",
        )
        change_id = serializers.UUIDField(
            required=False,
            allow_null=True,
            help_text="Your id for this change: retrying with it never records twice.",
        )

    @extend_schema(
        operation_id="clearances_decide",
        tags=TAGS,
        summary="Approve, reject or return a request under review, with the kind's findings",
        request=InputSerializer,
        responses={
            200: ChangeOutputSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
        examples=[
            OpenApiExample(
                "HPG approval",
                request_only=True,
                value={
                    "decision": "approved",
                    "remarks": "Macro-etching matches; not reported stolen.",
                    "findings": {
                        "engine_number_checked": "2NRX123456",
                        "chassis_number_checked": "MR2B29F30K1234567",
                        "macro_etching_result": "match",
                        "stolen_vehicle_check": "clear",
                        "certificate_number": "HPG-MVC-2026-000123",
                    },
                    "change_id": "6f1c2d1e-8c1a-4f6e-9a52-0d3b8f1f2a10",
                },
            ),
            OpenApiExample(
                "Insurance return",
                request_only=True,
                value={"decision": "returned", "remarks": "The COC number is unreadable."},
            ),
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clearance = clearance_request_get_for(Caller.of(request), pk)
        change = services.clearance_decide(
            request_id=clearance.pk,
            officer=request.user,
            decision=ClearanceStatus(data.validated_data["decision"]),
            remarks=data.validated_data["remarks"],
            findings=parse_findings(clearance.kind, data.validated_data.get("findings")),
            change_id=data.validated_data.get("change_id"),
        )
        return Response(ChangeOutputSerializer(change).data)
