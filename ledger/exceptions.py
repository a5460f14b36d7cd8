"""What can go wrong when writing to the ledger, and whether retrying can help."""

from django.utils.translation import gettext as _

from kernel.errors import DomainError


class LedgerError(DomainError):
    """Base class of ledger failures."""


class LedgerUnavailable(LedgerError):
    """The ledger could not be reached or did not answer in time: nothing was saved; retry."""

    code = "ledger_unavailable"
    http_status = 503
    retryable = True
    default_message = "The ledger is not answering right now. Nothing was saved; please try again."


class LedgerRejected(LedgerError):
    """The chaincode refused the change: nothing was saved, and retrying unchanged won't help."""

    code = "ledger_rejected"
    http_status = 422
    retryable = False
    default_message = "The ledger refused this change."


class InclusionPending(LedgerError):
    """The entry is recorded (its receipt's promise holds) but not yet in the log's tree."""

    code = "inclusion_pending"
    http_status = 409
    retryable = True
    default_message = "The entry is recorded and awaiting inclusion in the log."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "The entry is recorded and awaiting inclusion in the log; its proof is "
                "available once the sequencer has integrated it. Try again in a moment."
            )
        )
