"""REST operations on the ledger: a recorded change's receipt (checked against the ledger),
a vehicle's ledger history, and the Merkle inclusion proof of an entry. Changes are clearance
status changes, registrations (RegisterVehicle) and document anchors (RecordDocument).

Every read goes through the callers' funnels of clearance requests and applications: a
receipt or vehicle the caller may not see is a 404 that says nothing about it.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from api.authentication import caller_key
from api.conditional import IF_NONE_MATCH_PARAMETER, conditional_response, conditional_responses
from audit.serializers import (
    InclusionProofSerializer,
    ReceiptSerializer,
    VehicleHistorySerializer,
)
from chaincode.rules import VIN_PATTERN
from clearance.models import ClearanceStatusChange
from clearance.selectors import clearance_requests_for
from kernel.errors import DomainError
from ledger import get_ledger
from ledger.exceptions import InclusionPending, LedgerRejected
from ledger.receipts import receipt_checks
from organisations.access import Caller
from registry.api import applications_for_caller
from registry.models import ApplicationStatusChange, Document
from registry.selectors import vehicles_of

TAGS = ["ledger"]

Change = ClearanceStatusChange | ApplicationStatusChange | Document
# Both backends' transaction ids are hex digests; anything else names no receipt.
_TX_ID_PATTERN = re.compile(r"[0-9a-fA-F]{1,128}")


class InclusionProofUnavailable(DomainError):
    """The configured ledger keeps no Merkle tree of its own to prove inclusion in."""

    code = "inclusion_proof_unavailable"
    http_status = 422
    default_message = (
        "Inclusion proofs come from the embedded ledger's Merkle tree. On Fabric, check the "
        "receipt instead (GET /api/v1/ledger/receipts/{tx_id}/): the peers confirm that the "
        "transaction committed as valid."
    )


def _clearance_changes(request: Request) -> QuerySet[ClearanceStatusChange]:
    return ClearanceStatusChange.objects.filter(
        request__in=clearance_requests_for(Caller.of(request)).values("pk")
    ).select_related("request__application__vehicle", "organisation")


def _registration_changes(request: Request) -> QuerySet[ApplicationStatusChange]:
    return (
        ApplicationStatusChange.objects.filter(
            application__in=applications_for_caller(request).values("pk")
        )
        .exclude(ledger_tx_id="")
        .select_related("application__vehicle")
    )


def _document_anchors(request: Request) -> QuerySet[Document]:
    # The application's own documents, and the evidence of the clearances the caller may see
    # (an organisation does not see another organisation's evidence anchors).
    return (
        Document.objects.filter(application__in=applications_for_caller(request).values("pk"))
        .filter(
            Q(clearance_request__isnull=True)
            | Q(clearance_request__in=clearance_requests_for(Caller.of(request)).values("pk"))
        )
        .exclude(ledger_tx_id="")
        .select_related("application__vehicle", "clearance_request__organisation")
    )


def change_get_for_caller(request: Request, tx_id: str) -> Change:
    """The recorded change with this receipt, if the caller may see it; else 404."""
    if not _TX_ID_PATTERN.fullmatch(tx_id):
        raise Http404(_("No receipt you may see has this transaction id."))
    change: Change | None = _clearance_changes(request).filter(ledger_tx_id=tx_id).first()
    if change is None:
        change = _registration_changes(request).filter(ledger_tx_id=tx_id).first()
    if change is None:
        change = _document_anchors(request).filter(ledger_tx_id=tx_id).first()
    if change is None:
        raise Http404(_("No receipt you may see has this transaction id."))
    return change


_NO_DOCUMENT = {"document": None, "document_type": None, "sha256": None}


def _row(change: Change) -> dict[str, Any]:
    if isinstance(change, Document):
        return _document_row(change)
    if isinstance(change, ClearanceStatusChange):
        application = change.request.application
        subject = {
            "type": "clearance",
            "clearance": change.request.public_id,
            "kind": change.request.kind,
            "organisation": change.organisation.code,
        }
    else:
        application = change.application
        subject = {"type": "registration", "clearance": None, "kind": None, "organisation": None}
    return {
        "tx_id": change.ledger_tx_id,
        "change_id": change.change_id,
        "backend": change.ledger_backend,
        "block": change.ledger_block,
        "timestamp": change.ledger_timestamp,
        "from_status": change.from_status,
        "to_status": change.to_status,
        "subject": {
            **subject,
            **_NO_DOCUMENT,
            "application": application.reference,
            "vin": application.vehicle.vin,
        },
    }


def _document_row(document: Document) -> dict[str, Any]:
    request = document.clearance_request
    # Only an application's documents are listed here (a hold's evidence is not the owner's).
    application = document.application
    assert application is not None
    return {
        "tx_id": document.ledger_tx_id,
        "change_id": document.ledger_change_id,
        "backend": document.ledger_backend,
        "block": document.ledger_block,
        "timestamp": document.ledger_timestamp,
        "from_status": "",
        "to_status": DOCUMENT_ANCHORED,
        "subject": {
            "type": "document",
            "application": application.reference,
            "vin": application.vehicle.vin,
            "clearance": request.public_id if request else None,
            "kind": request.kind if request else None,
            "organisation": request.organisation.code if request else None,
            "document": document.public_id,
            "document_type": document.doc_type,
            "sha256": document.sha256,
        },
    }


DOCUMENT_ANCHORED = "anchored"

_TX_ID = OpenApiParameter(
    "tx_id", str, OpenApiParameter.PATH, description="The ledger transaction id of a receipt."
)
_RECEIPT_EXAMPLE = {
    "tx_id": "9b0f4c1e…",
    "change_id": "6f1c2d1e-8c1a-4f6e-9a52-0d3b8f1f2a10",
    "backend": "embedded",
    "block": 42,
    "timestamp": "2026-11-20T03:15:00Z",
    "from_status": "in_review",
    "to_status": "approved",
    "subject": {
        "type": "clearance",
        "application": "TLN-7KQ2M9XA",
        "vin": "MR2B29F30K1234567",
        "clearance": "0c7e9a4e-2d1b-4f55-8f0e-5b8e7f6c1a2d",
        "kind": "HPG",
        "organisation": "hpg",
        "document": None,
        "document_type": None,
        "sha256": None,
    },
}


class ReceiptApi(APIView):
    @extend_schema(
        operation_id="ledger_receipts_retrieve",
        tags=TAGS,
        summary="A recorded change's receipt, checked against the ledger itself",
        description=(
            "Find the change by the `tx_id` of its receipt (in every history row and status "
            "answer) and check it on the ledger: the embedded ledger recomputes the entry's "
            "hash and proves it is the leaf at its place under the log's latest signed "
            "checkpoint, or says it is recorded and awaiting inclusion; Fabric confirms the "
            "commit status. "
            "`verified` is false (not an error) when the ledger cannot be reached. Answers "
            "with an `ETag`; send it back in `If-None-Match` to get 304."
        ),
        parameters=[_TX_ID, IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(ReceiptSerializer),
        examples=[
            OpenApiExample(
                "Verified",
                response_only=True,
                value={
                    **_RECEIPT_EXAMPLE,
                    "verified": True,
                    "detail": "Entry #42 is included in checkpoint 57 of the log.",
                    "inclusion": "included",
                    "checkpoint_size": 57,
                },
            )
        ],
    )
    def get(self, request: Request, tx_id: str) -> HttpResponseBase:
        change = change_get_for_caller(request, tx_id)
        check = receipt_checks([change])[change.ledger_tx_id]
        inclusion = (
            "awaiting" if check.awaiting_inclusion else "included" if check.included_in else ""
        )
        promise = get_ledger().promise_of(change.ledger_tx_id) or {}
        data = {
            **_row(change),
            "leaf_hash": promise.get("leaf_hash", ""),
            "promise": promise.get("promise", ""),
            "verified": check.ok,
            "detail": check.detail,
            "inclusion": inclusion,
            "checkpoint_size": check.included_in,
        }
        return conditional_response(request, ReceiptSerializer(data).data)


class VehicleHistoryApi(APIView):
    @extend_schema(
        operation_id="ledger_vehicle_history",
        tags=TAGS,
        summary="A vehicle's ledger history by VIN",
        description=(
            "The recorded changes you may see for the vehicle (clearance status changes and "
            "its registration), oldest first, each with its receipt; and every version of the "
            "vehicle's own ledger record. Owners see their vehicles, LTO staff every one, an "
            "organisation those it has a request for (and only its own clearances). Answers "
            "with an `ETag`; send it back in `If-None-Match` to get 304."
        ),
        parameters=[
            OpenApiParameter(
                "vin", str, OpenApiParameter.PATH, description="The 17-character VIN."
            ),
            IF_NONE_MATCH_PARAMETER,
        ],
        responses=conditional_responses(VehicleHistorySerializer, (401, 403, 404, 429, 503)),
        examples=[
            OpenApiExample(
                "Cleared by HPG, not yet registered",
                response_only=True,
                value={
                    "vin": "MR2B29F30K1234567",
                    "changes": [_RECEIPT_EXAMPLE],
                    "ledger_record": [],
                },
            )
        ],
    )
    def get(self, request: Request, vin: str) -> HttpResponseBase:
        vin = "".join(vin.split()).upper()
        if not VIN_PATTERN.fullmatch(vin):
            raise Http404(_("No vehicle you may see has this VIN."))
        clearance_changes = list(
            _clearance_changes(request).filter(request__application__vehicle__vin=vin)
        )
        registration_changes = list(
            _registration_changes(request).filter(application__vehicle__vin=vin)
        )
        documents = list(_document_anchors(request).filter(application__vehicle__vin=vin))
        visible = (
            clearance_changes
            or registration_changes
            or applications_for_caller(request).filter(vehicle__vin=vin).exists()
            or (caller_key(request) is None and vehicles_of(request.user).filter(vin=vin).exists())
        )
        if not visible:
            raise Http404(_("No vehicle you may see has this VIN."))
        recorded: list[Change] = [*clearance_changes, *registration_changes, *documents]
        changes = sorted(recorded, key=lambda change: (change.created_at, change.pk))
        data = {
            "vin": vin,
            "changes": [_row(change) for change in changes],
            "ledger_record": get_ledger().history(vin),
        }
        return conditional_response(request, VehicleHistorySerializer(data).data)


class InclusionProofApi(APIView):
    class FilterSerializer(serializers.Serializer):
        tree_size = serializers.IntegerField(
            min_value=1,
            required=False,
            help_text="Prove inclusion in the tree of the first N entries (a tree head you "
            "hold); the current tree by default.",
        )

    @extend_schema(
        operation_id="ledger_inclusion_proof",
        tags=TAGS,
        summary="The Merkle inclusion proof of a receipt's ledger entry (embedded ledger)",
        description=(
            "An RFC 6962 audit path from the entry's leaf to a signed checkpoint's root: hash "
            "the leaf up the path and compare with `tree_root`, then check `checkpoint` with "
            "`verifier_key` (or `tree_signature` over `signed_message` with `public_key`). An "
            "entry recorded but not yet integrated into the log is 409 `inclusion_pending`: "
            "ask again in a moment. On the Fabric backend the answer is 422 "
            "`inclusion_proof_unavailable`: verify the receipt instead. Answers with an "
            "`ETag`; send it back in `If-None-Match` to get 304."
        ),
        parameters=[_TX_ID, FilterSerializer, IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            InclusionProofSerializer, (400, 401, 403, 404, 409, 422, 429)
        ),
        examples=[
            OpenApiExample(
                "Entry 42 in a tree of 57",
                response_only=True,
                value={
                    "tx_id": "9b0f4c1e…",
                    "seq": 42,
                    "index": 41,
                    "tree_size": 57,
                    "leaf_hash": "5f1d…",
                    "path": ["a3c9…", "07be…", "d41e…"],
                    "tree_root": "c0ff…",
                    "tree_signature": "8e2a…",
                    "signed_message": "talaan.local/ledger\n57\nwP8…=\n",
                    "checkpoint": "talaan.local/ledger\n57\nwP8…=\n\n— talaan.local/ledger …\n",
                    "verifier_key": "talaan.local/ledger+1a2b3c4d+AT…",
                    "public_key": "3b6a…",
                },
            )
        ],
    )
    def get(self, request: Request, tx_id: str) -> HttpResponseBase:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        change = change_get_for_caller(request, tx_id)
        ledger = get_ledger()
        if not ledger.is_transparency_log:
            raise InclusionProofUnavailable()
        try:
            proof = ledger.receipt_proof(
                tx_id=change.ledger_tx_id, tree_size=query.validated_data.get("tree_size")
            )
        except InclusionPending:
            raise
        except LedgerRejected as exc:
            # A well-formed size the ledger cannot answer for (a tree too small to hold the
            # entry, or bigger than the ledger): refused by a rule, not by the schema.
            raise ValidationError({"tree_size": [exc.message]}) from None
        if proof is None:
            raise Http404(_("The ledger holds no entry for this receipt."))
        data = {**proof, "tx_id": change.ledger_tx_id}
        return conditional_response(request, InclusionProofSerializer(data).data)
