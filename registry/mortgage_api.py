"""REST operations on chattel mortgages: a lender (its officers, or its system with a key of
the ``decide`` scope) lists and proposes its mortgages and releases them; the owner asked
consents or declines, in a session.

Every write calls the same service as the pages (registry.mortgages), under the API's
idempotency and problem responses: 422 naming the field (a vehicle and e-mail that do not
match get one neutral message), 409 for a mortgage that cannot move, 403 for someone it is not
theirs to act on.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.idempotency import idempotent
from api.permissions import HasKeyScope, SessionOnly
from api.problems import problem_responses
from organisations.access import Action, Caller
from registry import mortgages
from registry.models import Mortgage

TAGS = ["mortgages"]


class MortgageSerializer(serializers.ModelSerializer):
    vehicle = serializers.SerializerMethodField()
    lender = serializers.CharField(source="lender.code")
    annotation_tx_id = serializers.CharField(source="ledger_tx_id")
    release_tx_id = serializers.SerializerMethodField()

    class Meta:
        model = Mortgage
        ref_name = "Mortgage"
        fields = [
            "reference",
            "vehicle",
            "lender",
            "status",
            "answered_at",
            "consent_digest",
            "annotation_tx_id",
            "released_at",
            "release_tx_id",
            "end_reason",
            "created_at",
        ]

    def get_vehicle(self, mortgage: Mortgage) -> dict:
        vehicle = mortgage.vehicle
        return {
            "plate_number": vehicle.plate_number,
            "vin": vehicle.vin,
            "description": f"{vehicle.year} {vehicle.make} {vehicle.model}",
        }

    def get_release_tx_id(self, mortgage: Mortgage) -> str:
        release = getattr(mortgage, "release", None)
        return release.ledger_tx_id if release is not None else ""


def _answer(caller: Caller, reference: str, code: int = status.HTTP_200_OK) -> Response:
    fresh = mortgages.mortgage_get_for(caller, reference)
    return Response(MortgageSerializer(fresh).data, status=code)


class MortgageListApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MortgageProposal"

        vehicle = serializers.CharField(max_length=40, help_text="The vehicle's plate or VIN.")
        owner_email = serializers.EmailField(
            help_text="The registered owner's e-mail address; they are asked to consent."
        )

    @extend_schema(
        operation_id="mortgages_list",
        tags=TAGS,
        summary="Your lender's mortgages; an owner's, the ones they were asked to consent to",
        responses={200: MortgageSerializer(many=True), **problem_responses(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        found = mortgages.mortgages_for(Caller.of(request))[:100]
        return Response(MortgageSerializer(found, many=True).data)

    @extend_schema(
        operation_id="mortgages_propose",
        tags=TAGS,
        summary="Propose a chattel mortgage on a registered vehicle (a lender)",
        description=(
            "The lender's officer (or its key with the `decide` scope) names the vehicle by "
            "plate or VIN and its owner's e-mail address; the owner is asked to consent. A "
            "vehicle that is not registered, does not exist or is not that person's gets one "
            "neutral 422. 409 if the vehicle has a mortgage proposed or annotated already; 403 "
            "for anyone but a lender. Nothing is saved on a refusal."
        ),
        request=InputSerializer,
        responses={201: MortgageSerializer, **problem_responses(400, 401, 403, 409, 422, 429)},
        examples=[
            OpenApiExample(
                "Propose",
                request_only=True,
                value={"vehicle": "NAA 1234", "owner_email": "juan@example.ph"},
            )
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        caller = Caller.of(request)
        mortgage = mortgages.mortgage_propose(
            actor=request.user,
            vehicle=data.validated_data["vehicle"],
            owner_email=data.validated_data["owner_email"],
            caller=caller,
        )
        return _answer(caller, mortgage.reference, status.HTTP_201_CREATED)


class MortgageDetailApi(APIView):
    @extend_schema(
        operation_id="mortgages_retrieve",
        tags=TAGS,
        summary="One mortgage: your lender's, or one you were asked to consent to",
        responses={200: MortgageSerializer, **problem_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, reference: str) -> Response:
        return _answer(Caller.of(request), reference)


class MortgageConsentApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MortgageConsent"

        answer = serializers.ChoiceField(choices=["accept", "decline"])
        reason = serializers.CharField(max_length=2000, required=False, default="")

    @extend_schema(
        operation_id="mortgages_consent",
        tags=TAGS,
        summary="Consent to or decline a mortgage you were asked about (the owner)",
        description=(
            "Only the registered owner the lender asked (403 otherwise). Consenting annotates "
            "the mortgage on the ledger at once, signed by the lender: the vehicle is "
            "encumbered until the lender releases it. 409 once answered, or while the vehicle "
            "has a sale open."
        ),
        request=InputSerializer,
        responses={
            200: MortgageSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, reference: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        caller = Caller.of(request)
        mortgage = mortgages.mortgage_get_for(caller, reference)
        mortgages.mortgage_answer(
            owner=request.user,
            reference=mortgage.reference,
            accept=data.validated_data["answer"] == "accept",
            reason=data.validated_data["reason"],
        )
        return _answer(caller, mortgage.reference)


class MortgageReleaseApi(APIView):
    permission_classes = [IsAuthenticated, HasKeyScope]
    required_action = Action.RELEASE_MORTGAGE

    @extend_schema(
        operation_id="mortgages_release",
        tags=TAGS,
        summary="Release your lender's mortgage (the loan is paid)",
        description=(
            "Only the lender that holds the mortgage (403 for any other, whose release the "
            "ledger refuses too). 409 if it is not annotated, or while a transfer of the "
            "vehicle waits for the lender's consent."
        ),
        request=None,
        responses={200: MortgageSerializer, **problem_responses(401, 403, 404, 409, 422, 429, 503)},
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, reference: str) -> Response:
        caller = Caller.of(request)
        mortgage = mortgages.mortgage_get_for(caller, reference)
        mortgages.mortgage_release(actor=request.user, reference=mortgage.reference, caller=caller)
        return _answer(caller, mortgage.reference)
