"""Start-up checks: the app's clearance kinds and the chaincode's data must agree."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from chaincode.rules import clearance_signers
from clearance import kinds


@register()
def kinds_match_the_chaincode(**kwargs: Any) -> list[Error]:
    """A kind the chaincode does not know, or signs otherwise, would be refused on the ledger
    at its first request; say so when the app starts instead."""
    signers = clearance_signers()
    errors = []
    for kind in kinds.kinds():
        signer = signers.get(kind.code)
        if signer != kind.signed_by:
            errors.append(
                Error(
                    f"Clearance kind {kind.code} is signed by {kind.signed_by} here, but the "
                    f"chaincode's clearance signers say {signer or 'nothing about it'}.",
                    hint="Add it to chaincode.rules.DEFAULT_CLEARANCE_SIGNERS (and upgrade the "
                    "chaincode), or set TALAAN_CLEARANCE_SIGNERS for the app and the chaincode.",
                    id="clearance.E001",
                )
            )
    return errors
