"""REST: a Certificate of Registration as a verifiable credential (application/vc+jwt)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from api.permissions import SessionOnly
from api.problems import problem_responses
from organisations.access import Caller
from registry import credentials
from registry.credential_views import certificate_for_caller, credential_response


class VcJwtRenderer(BaseRenderer):
    """Lets a client ask for ``application/vc+jwt``; the view answers it directly, so what
    this renders is only a problem (a dict), as JSON."""

    media_type = credentials.MEDIA_TYPE
    format = "jwt"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return json.dumps(data).encode()


_EXAMPLE_JWT = (
    "eyJhbGciOiJFUzI1NiIsImN0eSI6InZjIiwia2lkIjoidXJuOmlldGY6cGFyYW1zOm9hdXRoOmp3ay10aHVtYnBy"
    "aW50OnNoYS0yNTY6Li4uIiwidHlwIjoidmMrand0In0.eyJAY29udGV4dCI6Wy4uLl19.c2lnbmF0dXJl"
)


class CertificateCredentialApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]
    renderer_classes = [VcJwtRenderer]

    @extend_schema(
        operation_id="certificates_credential",
        tags=["certificates"],
        summary="A Certificate of Registration as a W3C Verifiable Credential (vc+jwt)",
        description=(
            "The CR's owner, or LTO staff, signed in. The body is a compact JWS "
            "(`application/vc+jwt`, W3C VC-JOSE-COSE) whose payload is a Verifiable Credential "
            "2.0: the vehicle, the CR number and the owner's name. Verify it with the key in "
            "`/.well-known/jwks.json` named by its `kid`, and its status with the Bitstring "
            "Status List at `credentialStatus.statusListCredential` (public). A superseded or "
            "revoked CR still downloads, and its status bit is set. 503 when the server has "
            "no signing key configured."
        ),
        parameters=[
            OpenApiParameter(
                "number",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The CR number, e.g. CR-0123456789.",
            )
        ],
        responses={
            (200, credentials.MEDIA_TYPE): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="The credential as a vc+jwt.",
                examples=[OpenApiExample("vc+jwt", value=_EXAMPLE_JWT)],
            ),
            **problem_responses(401, 403, 404, 429, 503),
        },
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        certificate = certificate_for_caller(Caller.of(request), number)
        return credential_response(certificate)
