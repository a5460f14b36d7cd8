"""REST operations on dealers' origin records: a dealer's officer (signed in, or the dealer's
API key acting as its creator) lists and records its origins and invites a buyer.

Every write calls the same service as the dealer's pages, under the same idempotency and
problem responses as the rest of the API: 422 naming the field (a number already known, a
malformed VIN), 409 for an origin that cannot be sold now, 403 for someone who is not an
active officer of the dealer, 404 for an origin that is not theirs.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.idempotency import idempotent
from api.problems import problem_responses
from api.serializers import LedgerReceiptSerializer
from kernel.errors import PermissionDenied
from organisations.access import Action, Caller, scope_for
from organisations.models import Organisation
from organisations.selectors import dealers_of
from registry import origins, sales
from registry.models import OriginRecord, Vehicle
from registry.sale_api import SaleSerializer

TAGS = ["origins"]


class DealerScope(BasePermission):
    """A key's scopes must allow reading, or for a write recording origins; people in a
    session pass here and are checked as the dealer's officers by the service."""

    def has_permission(self, request: Request, view: object) -> bool:
        action = (
            Action.VIEW if request.method in ("GET", "HEAD", "OPTIONS") else Action.RECORD_ORIGIN
        )
        self.message = gettext("This API key lacks the '%(scope)s' scope.") % {
            "scope": scope_for(action)
        }
        return Caller.of(request).permits(action)


class OriginSerializer(serializers.ModelSerializer):
    dealer = serializers.CharField(source="dealer.code", help_text="The dealer's code.")
    status = serializers.SerializerMethodField()
    vehicle = serializers.IntegerField(
        source="vehicle_id", allow_null=True, help_text="The buyer's vehicle, once sold."
    )
    ledger = LedgerReceiptSerializer(source="*")

    class Meta:
        model = OriginRecord
        ref_name = "Origin"
        fields = [
            "id",
            "dealer",
            "vin",
            "engine_number",
            "chassis_number",
            "make",
            "model",
            "year",
            "body_type",
            "colour",
            "fuel",
            "csr_number",
            "invoice_number",
            "invoice_date",
            "record_digest",
            "status",
            "vehicle",
            "ledger",
            "created_at",
        ]

    def get_status(self, origin: OriginRecord) -> str:
        """unsold, invitation sent, sold (its buyer's registration in progress), registered."""
        return origins.origin_status(origin)


def _dealers(request: Request) -> QuerySet[Organisation]:
    """The dealers the caller acts for: a key's one organisation, or the person's dealers."""
    dealers = dealers_of(request.user)
    limit = Caller.of(request).organisation_limit
    return dealers.filter(pk=limit) if limit is not None else dealers


def _origins_for(request: Request) -> QuerySet[OriginRecord]:
    return (
        OriginRecord.objects.filter(dealer__in=_dealers(request))
        .select_related("dealer", "vehicle")
        .prefetch_related("sales")
    )


def _origin_for(request: Request, pk: int) -> OriginRecord:
    origin = _origins_for(request).filter(pk=pk).first()
    if origin is None:
        raise Http404(_("No such origin record."))
    return origin


class OriginInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OriginInput"

    dealer = serializers.SlugField(
        max_length=30,
        required=False,
        help_text="The dealer's code; needed only by a person who is an officer of several.",
    )
    vin = serializers.CharField(max_length=17, help_text="17 characters (ISO 3779).")
    engine_number = serializers.CharField(max_length=30)
    chassis_number = serializers.CharField(max_length=30)
    make = serializers.CharField(max_length=60)
    model = serializers.CharField(max_length=60)
    year = serializers.IntegerField(min_value=1900, max_value=2100)
    body_type = serializers.ChoiceField(Vehicle.BodyType.choices)
    colour = serializers.CharField(max_length=40)
    fuel = serializers.ChoiceField(Vehicle.Fuel.choices)
    csr_number = serializers.CharField(max_length=40, help_text="Certificate of stock reported.")
    invoice_number = serializers.CharField(max_length=40)
    invoice_date = serializers.DateField()


_ORIGIN_EXAMPLE = {
    "vin": "MHFAB8EM0R0123456",
    "engine_number": "2NRX123456",
    "chassis_number": "MHFAB8EM0R0123456C",
    "make": "Toyota",
    "model": "Vios 1.3 XLE",
    "year": 2026,
    "body_type": "sedan",
    "colour": "Red Mica",
    "fuel": "gasoline",
    "csr_number": "CSR-2026-000123",
    "invoice_number": "SI-88811",
    "invoice_date": "2026-11-30",
}


class OriginListApi(APIView):
    permission_classes = [IsAuthenticated, DealerScope]

    @extend_schema(
        operation_id="origins_list",
        tags=TAGS,
        summary="Your dealership's origin records, newest first (the latest 100)",
        responses={200: OriginSerializer(many=True), **problem_responses(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        return Response(OriginSerializer(_origins_for(request)[:100], many=True).data)

    @extend_schema(
        operation_id="origins_record",
        tags=TAGS,
        summary="Record a new vehicle's origin, signed on the ledger by your dealership",
        description=(
            "An active officer of an accredited dealer (or the dealer's key with the "
            "'decide' scope). Once per VIN, for ever: a VIN, engine or chassis number on any "
            "origin record or of any vehicle known (active or not) is a 422 naming it, as is "
            "a malformed VIN or an invoice dated in the future; 403 for anyone who is not the "
            "dealer's officer. Nothing is saved on a refusal; 503 if the ledger is "
            "unavailable (retry with the same Idempotency-Key)."
        ),
        request=OriginInputSerializer,
        responses={201: OriginSerializer, **problem_responses(400, 401, 403, 409, 422, 429, 503)},
        examples=[OpenApiExample("A sedan", request_only=True, value=_ORIGIN_EXAMPLE)],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = OriginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        facts = dict(data.validated_data)
        code = facts.pop("dealer", None)
        dealers = _dealers(request)
        if code is not None:
            dealers = dealers.filter(code=code)
        if not dealers.exists():
            raise PermissionDenied(_("Only an active officer of an accredited dealer can do this."))
        if dealers.count() > 1:
            raise serializers.ValidationError(
                {"dealer": ["Name the dealer: you are an officer of several."]}
            )
        dealer = dealers.get()
        origin = origins.origin_record(officer=request.user, dealer_id=dealer.pk, **facts)
        return Response(
            OriginSerializer(_origin_for(request, origin.pk)).data, status=status.HTTP_201_CREATED
        )


class OriginDetailApi(APIView):
    permission_classes = [IsAuthenticated, DealerScope]

    @extend_schema(
        operation_id="origins_retrieve",
        tags=TAGS,
        summary="One of your dealership's origin records",
        responses={200: OriginSerializer, **problem_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(OriginSerializer(_origin_for(request, pk)).data)


class OriginSaleApi(APIView):
    permission_classes = [IsAuthenticated, DealerScope]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OriginSaleStart"

        buyer_email = serializers.EmailField(help_text="The buyer's link is e-mailed here.")
        buyer_mobile = serializers.CharField(max_length=20, required=False, default="")

    @extend_schema(
        operation_id="origins_sell",
        tags=TAGS,
        summary="Invite the buyer of a vehicle your dealership recorded",
        description=(
            "The buyer is e-mailed a link; accepting (`POST /api/v1/sales/answer/`) files "
            "their first registration of a vehicle made from this origin record, so they "
            "never type its numbers. 409 if it is sold or has an invitation open; 422 for a "
            "sale to yourself."
        ),
        request=InputSerializer,
        responses={201: SaleSerializer, **problem_responses(400, 401, 403, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        origin = _origin_for(request, pk)
        sale = sales.origin_sale_start(
            officer=request.user,
            origin_id=origin.pk,
            buyer_email=data.validated_data["buyer_email"],
            buyer_mobile=data.validated_data["buyer_mobile"],
        )
        return Response(SaleSerializer(sale).data, status=status.HTTP_201_CREATED)
