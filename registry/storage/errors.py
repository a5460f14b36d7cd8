"""Errors of the document stores, in the terms the user is told about."""

from __future__ import annotations

from kernel.errors import DomainError


class StorageUnavailable(DomainError):
    """The document store did not answer, or failed on its side; trying again later can help.

    A missing document is not this: the backends raise ``FileNotFoundError`` for that.
    """

    code = "storage_unavailable"
    http_status = 503
    retryable = True
    default_message = "The document store is not answering; try again."

    def __init__(self, store: str, detail: str = "") -> None:
        self.store = store
        self.detail = detail
        super().__init__(f"The document store ({store}) is not answering; try again.")

    def __str__(self) -> str:
        # The message is what people see; the detail is for the logs and tracebacks.
        return f"{self.message} ({self.detail})" if self.detail else self.message
