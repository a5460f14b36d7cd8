"""The application's fee assessment over the API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import SessionOnly
from api.problems import problem_responses
from kernel.errors import Conflict, PermissionDenied
from organisations.access import Caller
from payments import assessment
from payments.participation import may_see_assessment
from payments.serializers import AssessmentSerializer
from registry.selectors import application_get_for_user

_EXAMPLE = {
    "items": [
        {
            "code": "mvuc",
            "label": "Motor vehicle user's charge (MVUC): passenger car, GVW 0 to 1,600 kg",
            "amount_centavos": 160000,
            "confirmed": True,
            "source": "RA 8794 §3(b) rates in force since 2004 ...",
        },
        {
            "code": "computer_fee",
            "label": "Computer fee (with VAT)",
            "amount_centavos": 15400,
            "confirmed": False,
            "source": "LTO MC RTL-MC-03471 (17 Jul 2003) ...: UNCONFIRMED",
        },
    ],
    "total_centavos": 175400,
    "currency": "PHP",
    "computed_at": "2026-11-22T01:00:00Z",
    "valid_until": "2026-11-29T01:00:00Z",
    "notes": "",
}


class ApplicationAssessmentApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    @extend_schema(
        operation_id="applications_assessment",
        tags=["applications"],
        summary="The application's itemised fee assessment",
        description=(
            "The applicant and LTO staff. The current assessment, computed from the fee "
            "schedule in force if none is still valid; amounts are integers in centavos "
            "(PHP). An item with `confirmed` false is a figure that could not be confirmed "
            "as official. A later schedule change does not alter it before `valid_until`. "
            "An application the caller may not see is a 404; a clearing organisation's "
            "officer gets a 403; with no schedule in force the answer is a 409."
        ),
        responses={200: AssessmentSerializer, **problem_responses(401, 403, 404, 409, 429)},
        examples=[OpenApiExample("Assessed", response_only=True, value=_EXAMPLE)],
    )
    def get(self, request: Request, pk: int) -> Response:
        application = application_get_for_user(user=request.user, pk=pk)
        if not may_see_assessment(Caller.of(request), application):
            raise PermissionDenied(_("Only the applicant and LTO staff see an application's fees."))
        current = assessment.assess(application)
        if current is None:
            raise Conflict(_("No fee schedule is in force today: the LTO assesses at the office."))
        return Response(AssessmentSerializer(current).data)
