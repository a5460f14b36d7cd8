"""What the API keeps of its own: the first answers to idempotent POSTs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.db import TimestampedModel


class IdempotencyRecord(TimestampedModel):
    """The first response to a POST carrying an ``Idempotency-Key``, replayed for 24 hours.

    A record is claimed (``pending``) before the operation runs and completed with the
    response afterwards; a caller's key names at most one request body.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("In flight")
        DONE = "done", _("Response stored")

    caller = models.CharField(max_length=40, help_text="key:<API key id> or user:<user id>.")
    key = models.CharField(max_length=255)
    request_sha256 = models.CharField("SHA-256 of method, path and body", max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")

    class Meta:
        # The table keeps the name it had when this model lived in clearance/.
        db_table = "clearance_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_per_caller")
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key} ({self.state})"
