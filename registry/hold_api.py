"""REST operations on holds: an office (HPG, the LTO) lists and places its holds and lifts
them, by person or API key (the ``decide`` scope), with the same services as the pages.

Refusals come as problems (``api.problems``): 422 naming the field (a VIN that is no VIN, a
missing or unacceptable evidence file), 403 for a reason not of the caller's organisation or
a hold another office placed, 409 for a hold already lifted. Nothing is saved on a refusal.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest
from api.idempotency import idempotent
from api.problems import problem_responses
from api.serializers import LedgerReceiptSerializer
from kernel.errors import PermissionDenied
from organisations.access import Action, Caller
from registry.api import EvidenceFileSerializer
from registry.holds import hold_lift, hold_offices, hold_place, holds_visible_to
from registry.models import Hold

TAGS = ["holds"]


class HoldLiftReceiptSerializer(serializers.Serializer):
    class Meta:
        ref_name = "HoldLiftReceipt"

    backend = serializers.CharField(source="lift_ledger_backend")
    tx_id = serializers.CharField(source="lift_ledger_tx_id")
    block = serializers.IntegerField(source="lift_ledger_block", allow_null=True)
    timestamp = serializers.DateTimeField(source="lift_ledger_timestamp", allow_null=True)


class HoldSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.code")
    evidence_sha256 = serializers.CharField(source="evidence.sha256")
    lift_evidence_sha256 = serializers.CharField(
        source="lift_evidence.sha256", allow_null=True, default=None
    )
    ledger = LedgerReceiptSerializer(source="*")
    lift_ledger = serializers.SerializerMethodField()

    class Meta:
        model = Hold
        ref_name = "Hold"
        fields = [
            "reference",
            "vin",
            "vehicle",
            "organisation",
            "reason",
            "status",
            "note",
            "placed_at",
            "evidence_sha256",
            "ledger",
            "lifted_at",
            "lift_note",
            "lift_evidence_sha256",
            "lift_ledger",
        ]

    @extend_schema_field(HoldLiftReceiptSerializer(allow_null=True))
    def get_lift_ledger(self, hold: Hold) -> dict | None:
        """The lifting's receipt, once the hold is lifted."""
        return HoldLiftReceiptSerializer(hold).data if hold.lift_change_id else None


def _own_holds(request: Request) -> QuerySet[Hold]:
    """The holds of the caller's own offices (a key: its organisation's)."""
    offices = [office.pk for office in hold_offices(Caller.of(request))]
    return Hold.objects.filter(organisation__in=offices).select_related(
        "organisation", "evidence", "lift_evidence"
    )


# Canonical base64 (RFC 4648, padded), so that what the schema accepts always decodes.
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class HoldEvidenceSerializer(EvidenceFileSerializer):
    class Meta:
        ref_name = "HoldEvidenceFile"

    content_base64 = serializers.RegexField(
        BASE64,
        help_text="The file's bytes, base64 (RFC 4648, padded): PDF, PNG or JPEG, at most 10 MB "
        "(and within the request size limit).",
    )


class HoldPlaceSerializer(serializers.Serializer):
    class Meta:
        ref_name = "HoldPlace"

    vin = serializers.CharField(max_length=40, help_text="The VIN (17 characters, ISO 3779).")
    reason = serializers.ChoiceField(
        Hold.Reason.choices,
        help_text="stolen (HPG); violation, court_order or administrative (the LTO).",
    )
    evidence = HoldEvidenceSerializer()
    note = serializers.CharField(
        max_length=2000,
        help_text="What the evidence shows; kept off the ledger, never shown to the owner.",
    )


class HoldLiftSerializer(serializers.Serializer):
    class Meta:
        ref_name = "HoldLift"

    evidence = HoldEvidenceSerializer()
    note = serializers.CharField(max_length=2000, help_text="Kept off the ledger.")


def _upload(evidence: dict) -> SimpleUploadedFile:
    return SimpleUploadedFile(evidence["file_name"], evidence["content_base64"])


def _answer(hold: Hold, code: int = status.HTTP_200_OK) -> Response:
    fresh = Hold.objects.select_related("organisation", "evidence", "lift_evidence").get(pk=hold.pk)
    return Response(HoldSerializer(fresh).data, status=code)


class HoldListApi(APIView):
    @property
    def required_action(self) -> Action:
        return Action.PLACE_HOLD if self.request.method == "POST" else Action.VIEW

    @extend_schema(
        operation_id="holds_list",
        tags=TAGS,
        summary="Your organisation's holds, newest first (HPG and the LTO)",
        parameters=[
            OpenApiParameter(
                "status", str, enum=["active", "lifted"], description="Only these holds."
            )
        ],
        responses={200: HoldSerializer(many=True), **problem_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        holds = _own_holds(request)
        if "status" in request.query_params:
            wanted = request.query_params["status"]
            if wanted not in Hold.Status.values:
                raise serializers.ValidationError({"status": _("Give active or lifted.")})
            holds = holds.filter(status=wanted)
        return Response(HoldSerializer(holds[:200], many=True).data)

    @extend_schema(
        operation_id="holds_place",
        tags=TAGS,
        summary="Place a hold on a VIN (HPG: stolen; the LTO: violation, court order, "
        "administrative)",
        description=(
            "The ledger records the hold (PlaceHold) signed by your organisation, with the "
            "evidence's SHA-256. While it is active the vehicle is not renewed, sold, "
            "transferred, deregistered or registered, and no clearance or registration of it "
            "is approved. The owner is told a hold exists and whom to contact, never the "
            "reason, note or evidence. 403 for a reason your organisation does not place; 422 "
            "for a VIN that is no VIN or evidence that is not a PDF, PNG or JPEG."
        ),
        request=HoldPlaceSerializer,
        responses={201: HoldSerializer, **problem_responses(400, 401, 403, 409, 422, 429, 503)},
        examples=[
            OpenApiExample(
                "Stolen",
                request_only=True,
                value={
                    "vin": "JTDBR32E720012345",
                    "reason": "stolen",
                    "evidence": {
                        "file_name": "alarm.pdf",
                        "content_base64": "JVBERi0xLjQKJSVFT0YK",
                    },
                    "note": "Reported stolen, alarm 2026-118.",
                },
            )
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        if not hold_offices(Caller.of(request)):
            raise PermissionDenied(_("Only HPG officers and LTO staff place holds."))
        data = HoldPlaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = hold_place(
            officer=request.user,
            caller=Caller.of(request),
            vin=data.validated_data["vin"],
            reason=data.validated_data["reason"],
            evidence=_upload(data.validated_data["evidence"]),
            note=data.validated_data["note"],
        )
        return _answer(hold, status.HTTP_201_CREATED)


class HoldLiftApi(APIView):
    required_action = Action.LIFT_HOLD

    @extend_schema(
        operation_id="holds_lift",
        tags=TAGS,
        summary="Lift a hold your organisation placed",
        description=(
            "Only the organisation that placed a hold lifts it (403 for any other; the "
            "chaincode refuses any other signer too); 409 if it is lifted already. The ledger "
            "records the lifting (LiftHold) with the evidence's SHA-256; the owner is told."
        ),
        request=HoldLiftSerializer,
        responses={
            200: HoldSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, reference: str) -> Response:
        hold = holds_visible_to(Caller.of(request)).filter(reference=reference).first()
        if hold is None:
            raise Http404(_("No such hold."))
        data = HoldLiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lifted = hold_lift(
            officer=request.user,
            caller=Caller.of(request),
            hold_id=hold.pk,
            evidence=_upload(data.validated_data["evidence"]),
            note=data.validated_data["note"],
        )
        return _answer(lifted)
