"""Findings filed with a decision: checked by the request's kind and stored where it keeps them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from chaincode.rules import ClearanceStatus
from clearance import kinds
from clearance.models import ClearanceRequest
from kernel.i18n import Message


def save_findings(*, request: ClearanceRequest, decision: str, findings: object | None) -> None:
    """Check the findings against the request and the rules, then store them.

    Approving needs findings that justify it; rejecting or returning may carry them.
    Readings that cannot be true are refused whatever the decision.
    """
    kind = kinds.kind(request.kind)
    if findings is None:
        if decision == ClearanceStatus.APPROVED:
            raise ValidationError(
                {
                    "findings": Message(
                        _("Approving a %(kind)s clearance needs its findings."),
                        {"kind": request.kind},
                    )
                }
            )
        return
    if not isinstance(findings, kind.findings):
        raise ValidationError(
            {
                "findings": Message(
                    _("A %(kind)s clearance takes %(name)s findings."),
                    {"kind": request.kind, "name": kind.findings.__name__},
                )
            }
        )
    kind.save_findings(request, findings, decision == ClearanceStatus.APPROVED)
