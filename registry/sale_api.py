"""REST operations on sales (transfer of ownership): the seller starts, withdraws and files
the notice; the invited buyer answers with the link's token; LTO staff read and cancel.

Every write calls the same service as the browser pages, under the same idempotency and
problem responses as the rest of the API (``api.problems``: 422 naming the field, 409 for a
sale that cannot move, 403 for someone it is not theirs to act on).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.idempotency import idempotent
from api.permissions import SessionOnly
from api.problems import problem_responses
from organisations.selectors import dealers_of, is_lto_staff
from registry import sales
from registry.models import Sale

TAGS = ["sales"]
PEOPLE = [IsAuthenticated, SessionOnly]


class SaleVehicleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plate_number = serializers.CharField(allow_null=True)
    description = serializers.CharField()


class SaleSerializer(serializers.ModelSerializer):
    vehicle = serializers.SerializerMethodField()
    origin = serializers.IntegerField(
        source="origin_id",
        allow_null=True,
        help_text="A dealer's sale of a new vehicle: the origin record sold.",
    )
    application = serializers.SerializerMethodField()

    class Meta:
        model = Sale
        ref_name = "Sale"
        fields = [
            "id",
            "vehicle",
            "origin",
            "status",
            "buyer_email",
            "expires_at",
            "application",
            "notice_of_sale_on",
            "notice_filed_at",
            "ended_at",
            "end_reason",
            "created_at",
        ]

    @extend_schema_field(SaleVehicleSerializer(allow_null=True))
    def get_vehicle(self, sale: Sale) -> dict | None:
        """The vehicle sold (a dealer's: once the buyer accepted and it was made)."""
        vehicle = sale.vehicle
        if vehicle is None:
            return None
        return {
            "id": vehicle.pk,
            "plate_number": vehicle.plate_number,
            "description": f"{vehicle.year} {vehicle.make} {vehicle.model}",
        }

    def get_application(self, sale: Sale) -> str | None:
        """The application's reference (a transfer, or the first registration of a dealer's
        new vehicle), once the buyer has accepted."""
        return sale.application.reference if sale.application else None


def _sales_for(request: Request) -> QuerySet[Sale]:
    """The seller's own sales (and the buyer's, once answered); every sale for LTO staff."""
    base = Sale.objects.select_related("vehicle", "application")
    if is_lto_staff(request.user):
        return base
    return base.filter(
        Q(seller=request.user)
        | Q(buyer=request.user)
        | Q(origin__dealer__in=dealers_of(request.user))
    )


def _sale_for(request: Request, pk: int) -> Sale:
    sale = _sales_for(request).filter(pk=pk).first()
    if sale is None:
        raise Http404(_("No such sale."))
    return sale


def _answer(sale: Sale, code: int = status.HTTP_200_OK) -> Response:
    fresh = Sale.objects.select_related("vehicle", "application").get(pk=sale.pk)
    return Response(SaleSerializer(fresh).data, status=code)


class SaleListApi(APIView):
    permission_classes = PEOPLE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SaleStart"

        vehicle = serializers.IntegerField(min_value=1, help_text="The id of your vehicle.")
        buyer_email = serializers.EmailField(help_text="The buyer's link is e-mailed here.")
        buyer_mobile = serializers.CharField(max_length=20, required=False, default="")

    @extend_schema(
        operation_id="sales_list",
        tags=TAGS,
        summary="Your sales (as seller or buyer); every sale for LTO staff",
        responses={200: SaleSerializer(many=True), **problem_responses(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        return Response(SaleSerializer(_sales_for(request)[:100], many=True).data)

    @extend_schema(
        operation_id="sales_start",
        tags=TAGS,
        summary="Offer your registered vehicle to a buyer",
        description=(
            "The registered owner of a currently registered vehicle names the buyer's e-mail "
            "address; the buyer is e-mailed a link to accept or decline. 409 if the vehicle "
            "has an application in progress, a sale open, or an expired registration (renew "
            "it first); 422 naming the field for a vehicle that is not yours to sell or a sale "
            "to yourself. Nothing is saved on a refusal."
        ),
        request=InputSerializer,
        responses={201: SaleSerializer, **problem_responses(400, 401, 403, 409, 422, 429)},
        examples=[
            OpenApiExample(
                "Start", request_only=True, value={"vehicle": 12, "buyer_email": "ana@example.ph"}
            )
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale = sales.sale_start(
            seller=request.user,
            vehicle_id=data.validated_data["vehicle"],
            buyer_email=data.validated_data["buyer_email"],
            buyer_mobile=data.validated_data["buyer_mobile"],
        )
        return _answer(sale, status.HTTP_201_CREATED)


class SaleDetailApi(APIView):
    permission_classes = PEOPLE

    @extend_schema(
        operation_id="sales_retrieve",
        tags=TAGS,
        summary="One sale: yours, or any for LTO staff",
        responses={200: SaleSerializer, **problem_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _answer(_sale_for(request, pk))


class SaleWithdrawApi(APIView):
    permission_classes = PEOPLE

    @extend_schema(
        operation_id="sales_withdraw",
        tags=TAGS,
        summary="Take the offer back, before the buyer has accepted",
        description="The seller only. After the buyer accepted, 409: only the LTO can cancel.",
        request=None,
        responses={200: SaleSerializer, **problem_responses(401, 403, 404, 409, 429)},
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        sale = _sale_for(request, pk)
        return _answer(sales.sale_withdraw(seller=request.user, sale_id=sale.pk))


class SaleNoticeApi(APIView):
    permission_classes = PEOPLE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "NoticeOfSale"

        handed_over_on = serializers.DateField(help_text="The day the vehicle was handed over.")

    @extend_schema(
        operation_id="sales_notice",
        tags=TAGS,
        summary="File the notice of sale (release of liability), once",
        description="The seller only; the date may not be in the future. 409 if already filed.",
        request=InputSerializer,
        responses={200: SaleSerializer, **problem_responses(400, 401, 403, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale = _sale_for(request, pk)
        return _answer(
            sales.notice_of_sale_file(
                seller=request.user,
                sale_id=sale.pk,
                handed_over_on=data.validated_data["handed_over_on"],
            )
        )


class SaleCancelApi(APIView):
    permission_classes = PEOPLE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SaleCancellation"

        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        operation_id="sales_cancel",
        tags=TAGS,
        summary="Cancel an open sale (LTO staff), and its transfer application if filed",
        request=InputSerializer,
        responses={200: SaleSerializer, **problem_responses(400, 401, 403, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale = _sale_for(request, pk)
        return _answer(
            sales.sale_cancel(
                actor=request.user, sale_id=sale.pk, reason=data.validated_data["reason"]
            )
        )


class SaleAnswerApi(APIView):
    permission_classes = PEOPLE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SaleAnswer"

        token = serializers.CharField(max_length=300, help_text="The token of the e-mailed link.")
        answer = serializers.ChoiceField(choices=["accept", "decline"])

    @extend_schema(
        operation_id="sales_answer",
        tags=TAGS,
        summary="Accept or decline a sale offered to you (the buyer)",
        description=(
            "Only for the account whose confirmed e-mail address the link was sent to (403 "
            "otherwise). Accepting files the transfer application in your name (its reference "
            "is in `application`). A used link is 409, an expired or forged one 422."
        ),
        request=InputSerializer,
        responses={200: SaleSerializer, **problem_responses(400, 401, 403, 409, 422, 429)},
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = (
            sales.sale_accept if data.validated_data["answer"] == "accept" else sales.sale_decline
        )
        return _answer(answer(buyer=request.user, token=data.validated_data["token"]))
