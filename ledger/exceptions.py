"""What can go wrong when writing to the ledger, and whether retrying can help."""

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
