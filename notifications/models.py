"""Notifications written in the same transaction as the change they announce."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from talaan.db import TimestampedModel


class Event(models.TextChoices):
    APPLICATION_SUBMITTED = "application_submitted", "Application submitted"
    APPLICATION_RETURNED = "application_returned", "Application returned for correction"
    CLEARANCE_REQUESTED = "clearance_requested", "Clearance requested"
    CLEARANCE_APPROVED = "clearance_approved", "Clearance approved"
    CLEARANCE_REJECTED = "clearance_rejected", "Clearance rejected"
    CLEARANCE_RETURNED = "clearance_returned", "Clearance returned"
    CLEARANCE_CANCELLED = "clearance_cancelled", "Clearance cancelled"
    APPLICATION_CLEARED = "application_cleared", "All clearances approved"
    REGISTRATION_APPROVED = "registration_approved", "Registration approved"
    REGISTRATION_REJECTED = "registration_rejected", "Registration rejected"


class Notification(TimestampedModel):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=40, choices=Event.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient}"


class Delivery(TimestampedModel):
    """One attempt-tracked delivery of a notification over one channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will be retried)"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="one_delivery_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} for {self.notification_id}: {self.state}"
