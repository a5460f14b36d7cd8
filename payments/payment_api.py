"""Payments over the API: the applicant starts a checkout for the application's current
assessment and reads its payments; LTO staff read them and record refunds.

Writes call the same services as the pages; refusals become problem details (400 bad body,
403 not yours to do, 404 not yours to see, 409 not payable now or already paid, 422 an
amount that is not the one due, a refund over what remains, an Idempotency-Key reused).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.idempotency import idempotent
from api.permissions import SessionOnly
from api.problems import problem_responses
from kernel.errors import PermissionDenied
from organisations.access import Caller
from payments import payment_services
from payments.participation import may_see_assessment
from payments.payment_selectors import payment_get_for_user, payments_of
from payments.payment_serializers import PaymentSerializer
from registry.selectors import application_get_for_user

TAGS = ["payments"]

_PAYMENT_EXAMPLE = {
    "reference": "PAY-3F9A1C22B0",
    "application": 42,
    "amount_centavos": 325400,
    "currency": "PHP",
    "status": "pending",
    "provider": "sandbox",
    "provider_payment_id": "",
    "checkout_url": "https://talaan.example/payments/sandbox/sbx_cs_Qm9vb/",
    "created_at": "2026-12-01T02:00:00Z",
    "expires_at": "2026-12-01T03:00:00Z",
    "paid_at": None,
    "refunded_centavos": 0,
    "refunds": [],
}


class ApplicationPaymentsApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PaymentStart"

        amount_centavos = serializers.IntegerField(
            required=False,
            help_text="Optional: the amount you showed the payer. The amount charged is "
            "always the current assessment's total; a different figure is a 422 and "
            "nothing is opened.",
        )

    @extend_schema(
        operation_id="applications_payments_list",
        tags=TAGS,
        summary="The application's payments, newest first, with their refunds",
        description=(
            "The applicant and LTO staff. A payment is never deleted: expired, failed and "
            "refunded ones stay listed. An application the caller may not see is a 404; a "
            "clearing organisation's officer gets a 403."
        ),
        responses={200: PaymentSerializer(many=True), **problem_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, pk: int) -> Response:
        application = application_get_for_user(user=request.user, pk=pk)
        if not may_see_assessment(Caller.of(request), application):
            raise PermissionDenied(_("Only the applicant and LTO staff see an application's fees."))
        payments = payments_of(application.pk)
        return Response(PaymentSerializer(payments, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="applications_payments_create",
        tags=TAGS,
        summary="Start paying the application's current assessment",
        description=(
            "The applicant only (403 for anyone else who sees the application), once it is "
            "submitted and until it is decided (not while returned): otherwise 409 "
            "`not_payable`. The amount is the current assessment's total "
            "(`GET …/assessment/`), reassessed first if its validity has passed; send the "
            "payer to `checkout_url`. 201 with a new checkout; 200 with the checkout already "
            "open for the same assessment. Already paid: 409 `already_paid`. No fee "
            "schedule in force: 409. A provider that cannot be reached: 503."
        ),
        request=InputSerializer,
        responses={
            201: PaymentSerializer,
            200: PaymentSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
        examples=[
            OpenApiExample("Pay", request_only=True, value={"amount_centavos": 325400}),
            OpenApiExample("Checkout opened", response_only=True, value=_PAYMENT_EXAMPLE),
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        application = application_get_for_user(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment, opened = payment_services.application_payment_start(
            payer=request.user,
            application_id=application.pk,
            expected_amount_centavos=data.validated_data.get("amount_centavos"),
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
        payment = payment_get_for_user(user=request.user, reference=payment.reference)
        return Response(
            PaymentSerializer(payment, context={"request": request}).data,
            status=status.HTTP_201_CREATED if opened else status.HTTP_200_OK,
        )


class PaymentDetailApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    @extend_schema(
        operation_id="payments_retrieve",
        tags=TAGS,
        summary="One payment, by its reference",
        description=(
            "Its payer and LTO staff, signed in; anyone else gets a 404 (an API key, which "
            "acts for an organisation, a 403)."
        ),
        responses={200: PaymentSerializer, **problem_responses(401, 403, 404, 429)},
        examples=[OpenApiExample("Pending", response_only=True, value=_PAYMENT_EXAMPLE)],
    )
    def get(self, request: AuthenticatedRequest, reference: str) -> Response:
        payment = payment_get_for_user(user=request.user, reference=reference)
        return Response(PaymentSerializer(payment, context={"request": request}).data)


class PaymentRefundApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PaymentRefundInput"

        amount_centavos = serializers.IntegerField(
            min_value=1, help_text="At most what was paid less what was already refunded."
        )
        reason = serializers.CharField(max_length=2000, help_text="Why the money goes back.")
        reference = serializers.CharField(
            max_length=100,
            required=False,
            default="",
            allow_blank=True,
            help_text="The LTO's own reference (a memo number); made up when left out.",
        )

    @extend_schema(
        operation_id="payments_refunds_create",
        tags=TAGS,
        summary="Record a refund of a paid payment (LTO staff)",
        description=(
            "LTO staff only (403 for the payer; 404 for anyone who cannot see the payment). "
            "Goes through the provider's refund API (PayMongo's `POST /v1/refunds`; the "
            "sandbox answers at once) and is recorded with the provider's refund id; the "
            "payment stays, `partially_refunded` or `refunded`. 422 when the amount is more "
            "than remains to refund, or the payment is not paid; nothing is recorded. A "
            "provider that refuses: 422 with its reason; one that cannot be reached: 503."
        ),
        request=InputSerializer,
        responses={
            201: PaymentSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
        examples=[
            OpenApiExample(
                "Refund",
                request_only=True,
                value={"amount_centavos": 45000, "reason": "Plate fee charged twice."},
            )
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, reference: str) -> Response:
        payment = payment_get_for_user(user=request.user, reference=reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment_services.refund_record(
            staff=request.user,
            payment_id=payment.pk,
            amount_centavos=data.validated_data["amount_centavos"],
            reason=data.validated_data["reason"],
            reference=data.validated_data["reference"],
        )
        payment = payment_get_for_user(user=request.user, reference=reference)
        return Response(
            PaymentSerializer(payment, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
