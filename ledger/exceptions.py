"""What can go wrong when writing to the ledger, and whether retrying can help."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chaincode.rules import parse_refusal
from kernel.errors import DomainError


class LedgerError(DomainError):
    """Base class of ledger failures."""


class LedgerUnavailable(LedgerError):
    """The ledger could not be reached or did not answer in time: nothing was saved; retry."""

    code = "ledger_unavailable"
    http_status = 503
    retryable = True
    default_message: str | Promise = _(
        "The ledger is not answering right now. Nothing was saved; please try again."
    )


class LedgerRejected(LedgerError):
    """The chaincode refused the change: nothing was saved, and retrying unchanged won't help."""

    code = "ledger_rejected"
    http_status = 422
    retryable = False
    default_message: str | Promise = _("The ledger refused this change.")

    def __init__(self, message: str | Promise | None = None) -> None:
        # The chaincode's refusal comes as its sentence plus "[REASON {params}]": keep the
        # sentence as the message and the reason for describe() to word in any language.
        if isinstance(message, str):
            message, self.reason, self.params = parse_refusal(message)
        super().__init__(message)


class InclusionPending(LedgerError):
    """The entry is recorded (its receipt's promise holds) but not yet in the log's tree."""

    code = "inclusion_pending"
    http_status = 409
    retryable = True
    default_message: str | Promise = _("The entry is recorded and awaiting inclusion in the log.")

    def __init__(self, message: str | Promise | None = None) -> None:
        super().__init__(
            message
            or _(
                "The entry is recorded and awaiting inclusion in the log; its proof is "
                "available once the sequencer has integrated it. Try again in a moment."
            )
        )
