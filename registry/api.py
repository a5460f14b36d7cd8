"""REST operations on vehicles and registration applications (owner scope) and the status
lookup.

Owners' writes call the same services as the browser pages; refusals propagate to
``api.problems.problem_exception_handler`` (422 naming the field, 409 for an illegal move).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest, caller_key
from api.conditional import (
    IF_NONE_MATCH_PARAMETER,
    conditional_response,
    conditional_responses,
    versioned_response,
)
from api.filters import filter_parameters, filtered
from api.idempotency import idempotent
from api.pagination import PAGE_PARAMETERS, Cursor, page_of
from api.permissions import SessionOnly
from api.problems import problem_responses
from api.schema import NON_BLANK_TEXT
from api.serializers import LedgerReceiptSerializer
from kernel.i18n import Message
from organisations.access import Action, Caller
from organisations.models import Office
from organisations.selectors import memberships_of
from registry import access, participants, services, status_lookup
from registry.deregistration import vehicle_deregister
from registry.document_services import document_checklist
from registry.filters import ApplicationFilter
from registry.models import Deregistration, RegistrationApplication, Vehicle
from registry.selectors import (
    application_get_for_user,
    applications_for_user,
    vehicle_get_for_user,
    vehicles_of,
)
from registry.serializers import (
    ApplicationSummarySerializer,
    ClearanceStatusSerializer,
    OriginFlagSerializer,
    RequiredDocumentSerializer,
    VehicleDetailSerializer,
    VehicleInputSerializer,
    VehicleOriginSerializer,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations
    from rest_framework.permissions import _SupportsHasPermission


class _Clearances(TypedDict):
    clearances: list[Any]  # participants.statuses(), set for the detail and lookup serializers
    required_documents: list[Any]  # document_checklist(), set for the detail serializer


ApplicationWithClearances: TypeAlias = "WithAnnotations[RegistrationApplication, _Clearances]"

TAGS = ["applications"]
VEHICLE_TAGS = ["vehicles"]


class OwnerScope(BasePermission):
    """Vehicle owners in a browser session: neither organisation keys nor organisation staff,
    who see applications through their organisation and file nothing as owners."""

    message = (
        "Vehicles and applications are filed by their owners, signed in; "
        "API keys and organisation staff cannot do this."
    )

    def has_permission(self, request: Request, view: object) -> bool:
        return caller_key(request) is None and not memberships_of(request.user).exists()


OWNER_PERMISSIONS = [IsAuthenticated, SessionOnly, OwnerScope]


def applications_for_caller(request: Request) -> QuerySet[RegistrationApplication]:
    """The user's funnel, further limited to applications the key's organisation works on."""
    applications = applications_for_user(request.user)
    limit = Caller.of(request).organisation_limit
    if limit is not None:
        applications = applications.filter(participants.applications_visible_to([limit])).distinct()
    return applications


class ApplicationDetailSerializer(ApplicationSummarySerializer):
    remarks = serializers.CharField()
    clearances = ClearanceStatusSerializer(many=True)
    # Which way the vehicle came: a dealer's origin record, or its owner's own entry (flagged
    # to the LTO when its numbers match an origin record).
    origin = VehicleOriginSerializer(source="vehicle.origin", allow_null=True, read_only=True)
    origin_flag = OriginFlagSerializer(
        source="vehicle.origin_flag", allow_null=True, read_only=True
    )
    required_documents = RequiredDocumentSerializer(
        many=True,
        help_text="The papers the application's type needs, each uploaded or missing, and who "
        "uploads it: the same checklist the application's page shows.",
    )

    class Meta(ApplicationSummarySerializer.Meta):
        fields = [
            *ApplicationSummarySerializer.Meta.fields,
            "remarks",
            "clearances",
            "origin",
            "origin_flag",
            "required_documents",
        ]
        ref_name = "ApplicationDetail"


def _application_detail(request: Request, pk: int) -> dict:
    """The application as its detail shows it, read through the caller's funnel."""
    application = cast(
        "ApplicationWithClearances", application_get_for_user(user=request.user, pk=pk)
    )
    application.clearances = participants.statuses(
        caller=Caller.of(request), application=application
    )
    application.required_documents = document_checklist(application)
    return ApplicationDetailSerializer(application).data


_REQUIRED_DOCUMENTS_EXAMPLE = [
    {
        "doc_type": doc_type,
        "label": label,
        "description": "",
        "filed_by": "applicant",
        "status": "uploaded",
    }
    for doc_type, label in [
        ("csr", "Certificate of stock reported"),
        ("insurance_coc", "Insurance certificate of cover"),
        ("sales_invoice", "Sales invoice"),
    ]
]
_APPLICATION_EXAMPLE = {
    "id": 12,
    "reference": "TLN-7KQ2M9XA",
    "type": "new",
    "status": "submitted",
    "office": "NCR-QC-DO",
    "vehicle": {
        "id": 7,
        "vin": "MR2B29F30K1234567",
        "make": "Toyota",
        "model": "Vios",
        "year": 2024,
        "body_type": "sedan",
        "fuel": "gasoline",
        "plate_number": None,
    },
    "period_start": "2026-11-22",
    "period_end": "2029-11-21",
    "filed_late": False,
    "submitted_at": "2026-11-22T01:02:03Z",
    "decided_at": None,
    "created_at": "2026-11-22T01:00:00Z",
    "updated_at": "2026-11-22T01:02:03Z",
    "remarks": "",
    "clearances": [],
    "origin": None,
    "origin_flag": None,
    "required_documents": _REQUIRED_DOCUMENTS_EXAMPLE,
}


class ApplicationListApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class OutputSerializer(ApplicationSummarySerializer):
        class Meta(ApplicationSummarySerializer.Meta):
            ref_name = "ApplicationSummary"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApplicationInput"

        vehicle = serializers.IntegerField(
            min_value=1, max_value=2**63 - 1, help_text="The id of one of your own vehicles."
        )
        type = serializers.ChoiceField(RegistrationApplication.Type.choices)
        office = serializers.CharField(
            max_length=20,
            required=False,
            help_text="The code of the LTO office it is filed at; the first office if left "
            "out. An unknown code is a 422 naming `office`.",
        )

    def get_permissions(self) -> Sequence[_SupportsHasPermission]:
        if self.request.method == "POST":
            return [permission() for permission in OWNER_PERMISSIONS]
        return super().get_permissions()

    @extend_schema(
        operation_id="applications_list",
        tags=TAGS,
        summary="List the applications the signed-in person may see",
        description=(
            "Owners see their own; LTO staff every one; officers those sent to them. Newest "
            "first, paged by cursor. An invalid filter value is a 400 naming the parameter."
        ),
        parameters=[*filter_parameters(ApplicationFilter), *PAGE_PARAMETERS],
        responses={
            200: page_of(OutputSerializer, "ApplicationPage"),
            **problem_responses(400, 401, 403, 429),
        },
    )
    def get(self, request: Request) -> Response:
        applications = filtered(ApplicationFilter, request, applications_for_user(request.user))
        paginator = Cursor()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(applications, request, self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="applications_create",
        tags=TAGS,
        summary="Start a draft application for one of your vehicles",
        description=(
            "Owners only, signed in. The draft is filed with the LTO by `submit`. A vehicle "
            "that is not yours is a 422 naming `vehicle`; one with an application in "
            "progress is a 409. A `new` registration of a vehicle already registered is a 422 "
            "naming `type`; a `renewal` runs on the LTO's schedule (the plate's last digit "
            "gives the month, the second-last the week): before its window opens it is a 409 "
            "saying when it opens, after its due week it is filed with `filed_late` true. A "
            "`transfer` is filed by the buyer's acceptance of a sale (`/sales/`), never here."
        ),
        request=InputSerializer,
        responses={
            201: ApplicationDetailSerializer,
            **problem_responses(400, 401, 403, 409, 422, 429),
        },
        examples=[
            OpenApiExample(
                "New registration", request_only=True, value={"vehicle": 7, "type": "new"}
            ),
            OpenApiExample(
                "Draft created",
                response_only=True,
                status_codes=["201"],
                value={
                    **_APPLICATION_EXAMPLE,
                    "status": "draft",
                    "submitted_at": None,
                    "required_documents": [
                        {**item, "status": "missing"} for item in _REQUIRED_DOCUMENTS_EXAMPLE
                    ],
                },
            ),
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.application_create(
            applicant=request.user,
            vehicle_id=data.validated_data["vehicle"],
            type=data.validated_data["type"],
            office_id=_office_id(data.validated_data.get("office")),
        )
        return Response(
            _application_detail(request, application.pk), status=status.HTTP_201_CREATED
        )


def _office_id(code: str | None) -> int | None:
    if code is None:
        return None
    office_id = Office.objects.filter(code=code, is_active=True).values_list("pk", flat=True)
    if not office_id:
        raise ValidationError(
            {"office": Message(_("No LTO office has the code %(code)s."), {"code": repr(code)})}
        )
    return office_id[0]


class ApplicationDetailApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]
    OutputSerializer = ApplicationDetailSerializer

    @extend_schema(
        operation_id="applications_retrieve",
        tags=TAGS,
        summary="One application with its clearances",
        description="Answers with an `ETag`; send it back in `If-None-Match` to get 304.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(OutputSerializer),
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        return conditional_response(request, _application_detail(request, pk))


class ApplicationSubmitApi(APIView):
    permission_classes = OWNER_PERMISSIONS

    @extend_schema(
        operation_id="applications_submit",
        tags=TAGS,
        summary="File a draft application with the LTO",
        description=(
            "The applicant only. Moves the application from `draft` to `submitted`, records "
            "the change in its history and tells LTO staff. From any other status the answer "
            "is 409 `transition_not_allowed` and nothing changes. While a document in "
            "`required_documents` is `missing` the answer is 422 `documents_missing`, naming "
            "each in `detail` and listing their `doc_type`s in `errors.missing_documents`; "
            "nothing changes."
        ),
        request=None,
        responses={
            200: ApplicationDetailSerializer,
            **problem_responses(401, 403, 404, 409, 422, 429),
        },
        examples=[OpenApiExample("Submitted", response_only=True, value=_APPLICATION_EXAMPLE)],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        application = application_get_for_user(user=request.user, pk=pk)
        services.application_submit(application_id=application.pk, actor=request.user)
        return Response(_application_detail(request, application.pk))


class ApplicationResubmitApi(APIView):
    permission_classes = OWNER_PERMISSIONS

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApplicationResubmission"

        note = serializers.CharField(
            max_length=2000,
            required=False,
            default="",
            allow_blank=True,
            help_text="What you corrected; kept in the application's history.",
        )

    @extend_schema(
        operation_id="applications_resubmit",
        tags=TAGS,
        summary="File a returned application again, with a note of what you corrected",
        description=(
            "The applicant only, while the application is `returned`. It goes back to "
            "`awaiting_clearances` (returned clearances become pending again) or, if it was "
            "never sent for clearance, to `submitted`. Otherwise 409 `transition_not_allowed`."
        ),
        request=InputSerializer,
        responses={
            200: ApplicationDetailSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429),
        },
        examples=[
            OpenApiExample(
                "Corrected",
                request_only=True,
                value={"note": "Uploaded a readable certificate of cover."},
            )
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = application_get_for_user(user=request.user, pk=pk)
        services.application_resubmit(
            application_id=application.pk, actor=request.user, note=data.validated_data["note"]
        )
        return Response(_application_detail(request, application.pk))


class ApplicationApproveApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RegistrationApproval"

        plate_number = serializers.CharField(
            max_length=20,
            required=False,
            default="",
            allow_blank=True,
            help_text="A plate to issue (e.g. NBC 1234); one is assigned when left out.",
        )

    @extend_schema(
        operation_id="applications_approve",
        tags=TAGS,
        summary="Approve a cleared application's registration (LTO staff)",
        description=(
            "LTO staff only (403). The application must be `cleared` (409 "
            "`transition_not_allowed` otherwise) and its fees paid in full: while they are "
            "not, the answer is 409 `approval_refused` naming the amount due, and nothing "
            "changes. Approved: MV file number and plate assigned, recorded on the ledger."
        ),
        request=InputSerializer,
        responses={
            200: ApplicationDetailSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = application_get_for_user(user=request.user, pk=pk)
        services.registration_approve(
            application_id=application.pk,
            actor=request.user,
            plate_number=data.validated_data["plate_number"],
        )
        return Response(_application_detail(request, application.pk))


_VEHICLE_EXAMPLE = {
    "vin": "MR2B29F30K1234567",
    "engine_number": "2NRX123456",
    "chassis_number": "MR2B29F30K1234567",
    "make": "Toyota",
    "model": "Vios",
    "year": 2024,
    "body_type": "sedan",
    "colour": "Silver",
    "fuel": "gasoline",
    "classification": "private",
}


class VehicleListApi(APIView):
    permission_classes = OWNER_PERMISSIONS

    @extend_schema(
        operation_id="vehicles_list",
        tags=VEHICLE_TAGS,
        summary="List your own vehicles",
        description="Owners only, signed in. Newest first, paged by cursor.",
        parameters=PAGE_PARAMETERS,
        responses={
            200: page_of(VehicleDetailSerializer, "VehiclePage"),
            **problem_responses(401, 403, 429),
        },
    )
    def get(self, request: Request) -> Response:
        paginator = Cursor()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(vehicles_of(request.user), request, self)
        return paginator.get_paginated_response(VehicleDetailSerializer(page, many=True).data)

    @extend_schema(
        operation_id="vehicles_create",
        tags=VEHICLE_TAGS,
        summary="Record a vehicle you own",
        description=(
            "Owners only, signed in. Numbers are normalised (spaces removed, upper case); a "
            "VIN, engine or chassis number another active vehicle has is a 422 naming it."
        ),
        request=VehicleInputSerializer,
        responses={
            201: VehicleDetailSerializer,
            **problem_responses(400, 401, 403, 422, 429),
        },
        examples=[
            OpenApiExample("A sedan", request_only=True, value=_VEHICLE_EXAMPLE),
            OpenApiExample(
                "Recorded",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": 7,
                    **_VEHICLE_EXAMPLE,
                    "plate_number": None,
                    "mv_file_number": None,
                    "came_from": "hand",
                    "origin": None,
                    "origin_flag": None,
                    "created_at": "2026-11-22T01:00:00Z",
                    "updated_at": "2026-11-22T01:00:00Z",
                },
            ),
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = VehicleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_register(owner=request.user, **data.validated_data)
        return Response(VehicleDetailSerializer(vehicle).data, status=status.HTTP_201_CREATED)


class VehicleDetailApi(APIView):
    permission_classes = OWNER_PERMISSIONS

    @extend_schema(
        operation_id="vehicles_retrieve",
        tags=VEHICLE_TAGS,
        summary="One of your vehicles",
        description="Answers with an `ETag`; send it back in `If-None-Match` to get 304.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(VehicleDetailSerializer),
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        vehicle = vehicle_get_for_user(user=request.user, pk=pk)
        return conditional_response(request, VehicleDetailSerializer(vehicle).data)


def _one_lookup(name: str, max_length: int) -> dict:
    # Something besides spaces, and no NUL (which PostgreSQL cannot compare).
    value = {"type": "string", "maxLength": max_length, "pattern": NON_BLANK_TEXT}
    return {
        "type": "object",
        "properties": {name: value},
        "required": [name],
        "additionalProperties": False,
    }


# "Exactly one of" three query parameters, which separate parameters cannot say: one
# parameter whose value is one of three objects, each sent as its single `name=value`.
STATUS_LOOKUP_PARAMETER = OpenApiParameter(
    "lookup",
    {"oneOf": [_one_lookup("reference", 16), _one_lookup("vin", 17), _one_lookup("plate", 10)]},
    OpenApiParameter.QUERY,
    required=True,
    style="form",
    explode=True,
    description="Exactly one of `reference=`, `vin=` or `plate=` (anything else is 400).",
)


class StatusLookupApi(APIView):
    class FilterSerializer(serializers.Serializer):
        reference = serializers.CharField(required=False, max_length=16)
        vin = serializers.CharField(required=False, max_length=17)
        plate = serializers.CharField(required=False, max_length=10)

        def validate(self, attrs: dict) -> dict:
            if len(attrs) != 1:
                raise serializers.ValidationError(_("Give exactly one of reference, vin or plate."))
            return attrs

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApplicationStatus"

        reference = serializers.CharField()
        type = serializers.CharField()
        status = serializers.CharField()
        updated_at = serializers.DateTimeField()
        # Annotated by registry.status_lookup, which reads it for the ETag too.
        on_hold = serializers.BooleanField(
            help_text="Whether an office holds the vehicle (stolen, court order, violation, "
            "administrative): it is not renewed, transferred or decided until lifted. No "
            "details: the office's holds API has them."
        )
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
        parameters=[STATUS_LOOKUP_PARAMETER, IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(OutputSerializer, (400, 401, 403, 404, 429)),
        examples=[
            OpenApiExample(
                "Awaiting clearances",
                response_only=True,
                value={
                    "reference": "TLN-7KQ2M9XA",
                    "type": "new",
                    "status": "awaiting_clearances",
                    "updated_at": "2026-11-20T03:15:00Z",
                    "on_hold": False,
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
        caller = Caller.of(request)
        # The version comes first: a client that has it gets 304 for two queries.
        found = status_lookup.latest_application(caller, field=field, value=value)
        if found is None:
            raise Http404(_("No application you may see matches."))

        def body() -> Any:
            shown = cast("ApplicationWithClearances", found.application)
            shown.clearances = participants.statuses(caller=caller, application=shown)
            return self.OutputSerializer(shown).data

        return versioned_response(request, found.etag, body)


class EvidenceFileSerializer(serializers.Serializer):
    """A file sent inside the JSON body: its plain name and its bytes in base64."""

    class Meta:
        ref_name = "EvidenceFile"

    file_name = serializers.CharField(max_length=200, help_text="A plain name, e.g. scrap.pdf.")
    content_base64 = serializers.CharField(
        help_text="The file's bytes, base64 (RFC 4648): PDF, PNG or JPEG, at most 10 MB "
        "(and within the request size limit)."
    )

    def validate_content_base64(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(_("This is not base64.")) from None


class VehicleDeregisterApi(APIView):
    required_action = Action.DEREGISTER

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VehicleDeregistrationInput"

        reason = serializers.ChoiceField(Deregistration.Reason.choices)
        evidence = EvidenceFileSerializer()
        note = serializers.CharField(
            max_length=2000, help_text="What the evidence shows; kept off the ledger."
        )

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Deregistration
            ref_name = "VehicleDeregistration"
            fields = ["vehicle", "vin", "reason", "deregistered_on", "evidence_sha256", "ledger"]

        vin = serializers.CharField(source="vehicle.vin")
        evidence_sha256 = serializers.CharField(source="evidence.sha256")
        ledger = LedgerReceiptSerializer(source="*")

    @extend_schema(
        operation_id="vehicles_deregister",
        tags=VEHICLE_TAGS,
        summary="Deregister a registered vehicle for good (LTO staff and LTO keys)",
        description=(
            "Final: the vehicle's Certificate of Registration is revoked, its registration and "
            "ownership end, the ledger records it (DeregisterVehicle, signed by the LTO) and "
            "its VIN, engine and chassis numbers are never registered again; the owner is "
            "told. Refused (409) while the vehicle has an application in progress or a sale "
            "open, or when it is deregistered already; 422 for a vehicle that is not "
            "registered or evidence that is not a PDF, PNG or JPEG. Only LTO staff (403)."
        ),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        caller = Caller.of(request)
        access.require_vehicle_action(caller, Action.DEREGISTER)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = Vehicle.objects.filter(pk=pk).first()
        if vehicle is None:
            raise Http404(_("No such vehicle."))
        evidence = data.validated_data["evidence"]
        deregistration = vehicle_deregister(
            vehicle_id=vehicle.pk,
            actor=request.user,
            caller=caller,
            reason=data.validated_data["reason"],
            evidence=SimpleUploadedFile(evidence["file_name"], evidence["content_base64"]),
            note=data.validated_data["note"],
        )
        return Response(self.OutputSerializer(deregistration).data, status=status.HTTP_201_CREATED)
