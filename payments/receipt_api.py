"""Official receipts over the API: the payer's own and, for LTO staff, every office's; a
receipt's PDF (each download recorded and marked as a reprint); LTO staff's void.

Signed-in people only (an organisation key gets 403): receipts are the payer's and the LTO's.
Another payer's receipt is a 404, as one that does not exist. A void without a reason is a 422
naming ``reason``, of a void receipt a 409, by anyone but LTO staff a 403; nothing changes."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.filters import filter_parameters, filtered
from api.idempotency import idempotent
from api.pagination import PAGE_PARAMETERS, Cursor, page_of
from api.permissions import SessionOnly
from api.problems import problem_responses
from organisations.access import Caller
from payments import receipt_services
from payments.models import OfficialReceipt, ReceiptItem
from payments.receipt_access import receipt_get_for, receipts_visible_to
from payments.receipt_views import reprint_response

TAGS = ["receipts"]


class ReceiptItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReceiptItem
        ref_name = "ReceiptItem"
        fields = ["code", "label", "amount_centavos", "confirmed"]
        extra_kwargs = {
            "confirmed": {"help_text": "False: the rate could not be confirmed as official."}
        }


class ReceiptSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code", help_text="The issuing office's code.")
    office_name = serializers.CharField(source="office.name")
    status = serializers.SerializerMethodField()
    transaction_reference = serializers.CharField(
        source="payment.reference", help_text="Talaan's payment reference."
    )
    items = ReceiptItemSerializer(many=True, read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = OfficialReceipt
        ref_name = "OfficialReceipt"
        fields = [
            "number",
            "office",
            "office_name",
            "issued_at",
            "payer_name",
            "application_reference",
            "items",
            "total_centavos",
            "currency",
            "mode_of_payment",
            "transaction_reference",
            "gateway_reference",
            "status",
            "voided_at",
            "void_reason",
        ]

    def get_status(self, receipt: OfficialReceipt) -> str:
        return "void" if receipt.is_void else "valid"

    def get_currency(self, receipt: OfficialReceipt) -> str:
        return "PHP"


class ReceiptFilter(filters.FilterSet):
    office = filters.CharFilter(
        field_name="office__code", max_length=20, label="Only receipts of this office (its code)."
    )
    issued_from = filters.DateFilter(
        field_name="issued_at__date", lookup_expr="gte", label="Issued on or after this day."
    )
    issued_to = filters.DateFilter(
        field_name="issued_at__date", lookup_expr="lte", label="Issued on or before this day."
    )
    status = filters.ChoiceFilter(
        choices=[("valid", "valid"), ("void", "void")],
        method="by_status",
        label="Only valid or only void receipts.",
    )

    class Meta:
        model = OfficialReceipt
        fields: list[str] = []

    def by_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(voided_at__isnull=value == "valid")


_EXAMPLE = {
    "number": "NCR-QC-DO-0000042",
    "office": "NCR-QC-DO",
    "office_name": "LTO Quezon City District Office",
    "issued_at": "2026-11-22T01:00:00Z",
    "payer_name": "Juan dela Cruz",
    "application_reference": "APP-7F3K2Q9M1A",
    "items": [
        {
            "code": "mvuc",
            "label": "Motor vehicle user's charge (MVUC): passenger car",
            "amount_centavos": 160000,
            "confirmed": True,
        }
    ],
    "total_centavos": 160000,
    "currency": "PHP",
    "mode_of_payment": "Online (PayMongo)",
    "transaction_reference": "PAY-1A2B3C4D5E",
    "gateway_reference": "pay_9xYz",
    "status": "valid",
    "voided_at": None,
    "void_reason": "",
}


class ReceiptListApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    @extend_schema(
        operation_id="receipts_list",
        tags=TAGS,
        summary="Official receipts: your own, or every office's for LTO staff",
        description=(
            "Newest first, paged by cursor. Amounts are integers in centavos (PHP). A void "
            "receipt keeps its number and is listed with `status` void. An invalid filter "
            "value is a 400 naming the parameter."
        ),
        parameters=[*filter_parameters(ReceiptFilter), *PAGE_PARAMETERS],
        responses={
            200: page_of(ReceiptSerializer, "OfficialReceiptPage"),
            **problem_responses(400, 401, 403, 429),
        },
    )
    def get(self, request: Request) -> Response:
        receipts = filtered(
            ReceiptFilter,
            request,
            receipts_visible_to(Caller.of(request)).prefetch_related("items"),
        )
        paginator = Cursor()
        paginator.ordering = ("-issued_at", "-id")
        page = paginator.paginate_queryset(receipts, request, self)
        return paginator.get_paginated_response(ReceiptSerializer(page, many=True).data)


class ReceiptDetailApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    @extend_schema(
        operation_id="receipts_detail",
        tags=TAGS,
        summary="One official receipt",
        description="Its payer and LTO staff; anyone else gets a 404.",
        responses={200: ReceiptSerializer, **problem_responses(401, 403, 404, 429)},
        examples=[OpenApiExample("Valid", response_only=True, value=_EXAMPLE)],
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(ReceiptSerializer(receipt_get_for(Caller.of(request), number)).data)


class ReceiptPdfApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    @extend_schema(
        operation_id="receipts_pdf",
        tags=TAGS,
        summary="The official receipt as a PDF (a reprint)",
        description=(
            "Each download is recorded in the receipt's history and printed as `REPRINT no. "
            "N` with its date (the original is the copy e-mailed to the payer). A void "
            "receipt's PDF says VOID with the reason. Its payer and LTO staff; anyone else "
            "gets a 404."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF"),
            **problem_responses(401, 403, 404, 429),
        },
    )
    def get(self, request: AuthenticatedRequest, number: str) -> HttpResponse:
        return reprint_response(request.user, number)


class ReceiptVoidApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReceiptVoid"

        # Left out or blank is the service's 422 naming the reason, as on the page.
        reason = serializers.CharField(
            max_length=1000,
            required=False,
            allow_blank=True,
            default="",
            help_text="Why it is voided (required): printed on it and told to the payer.",
        )

    @extend_schema(
        operation_id="receipts_void",
        tags=TAGS,
        summary="Void an official receipt (LTO staff)",
        description=(
            "The number stays in the series, marked void with the reason, who and when; "
            "nothing is deleted and the payment is not refunded by it. 403 for anyone but "
            "LTO staff; 409 if it is void already; 422 without a reason."
        ),
        request=InputSerializer,
        responses={200: ReceiptSerializer, **problem_responses(400, 401, 403, 404, 409, 422, 429)},
        examples=[
            OpenApiExample(
                "Void", request_only=True, value={"reason": "Printed with the wrong payer name."}
            )
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, number: str) -> Response:
        caller = Caller.of(request)
        receipt_get_for(caller, number)  # a receipt the caller may not see is a 404 first
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt_services.receipt_void(
            staff=request.user, number=number, reason=data.validated_data["reason"]
        )  # 403 for anyone but LTO staff, 409 if void already, 422 without a reason
        return Response(ReceiptSerializer(receipt_get_for(caller, number)).data)
