"""Notifications written in the same transaction as the change they announce."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.db import TimestampedModel


class ClaimedForSending(models.Model):
    """A claim with a lease, taken and committed before a delivery's network call.

    A sender claims the row in one short transaction, commits, sends with no transaction or
    row lock open, then records the outcome in a second short transaction (see
    ``notifications.claims``). While ``claimed_until`` is in the future nobody else sends the
    row; once it has passed (the sender died or overran) the sweep sends it again, so delivery
    is at least once. Both fields have database defaults: code from before them can still
    insert rows.
    """

    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(
        max_length=100, blank=True, default="", db_default="", editable=False
    )

    class Meta:
        abstract = True


class Notification(TimestampedModel):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # The name of a registered notifications.events.NotificationEvent; no choices here, so
    # that an app's new event needs no notifications migration.
    event = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Scheduled jobs set a key per occurrence ("clearance-overdue:<id>:<deadline>") so that a
    # rerun, or two beat processes racing, never tell the same person twice. NULL (not "")
    # means "no key": NULLs never collide in the unique constraint below.
    dedupe_key = models.CharField(  # noqa: DJ001
        max_length=100, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(
                fields=["dedupe_key"],
                name="notification_dedupe_key_idx",
                condition=models.Q(dedupe_key__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_dedupe_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient}"


class Delivery(ClaimedForSending, TimestampedModel):
    """One attempt-tracked delivery of a notification over one channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (will be retried)")
        SKIPPED = "skipped", _("Skipped (no address to send to)")

    UNSENT = (State.PENDING, State.FAILED)

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


class NotificationPreference(TimestampedModel):
    """Which channels one person wants for one event; in-app is always on.

    No row means the event's default channels (see notifications.events).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=40)  # a registered event's name, as on Notification
    email = models.BooleanField(default=True)
    sms = models.BooleanField("SMS", default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="one_preference_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.event}: email={self.email} sms={self.sms}"


class WebhookEvent(models.TextChoices):
    """The events an organisation's systems can subscribe to (see notifications.webhooks)."""

    CLEARANCE_REQUESTED = "clearance.requested", _("Clearance requested")
    CLEARANCE_DECIDED = "clearance.decided", _("Clearance decided")
    REGISTRATION_DECIDED = "registration.decided", _("Registration decided")


class WebhookSubscription(TimestampedModel):
    """An organisation's URL that receives signed deliveries of the events it chose."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField("URL", max_length=500)
    # Kept in clear because every delivery is signed with it; shown once, never logged.
    secret = models.CharField(max_length=80, editable=False)
    events = models.JSONField(default=list, help_text="Names of the subscribed WebhookEvents.")
    is_active = models.BooleanField(default=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["organisation_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.organisation_id})"


class WebhookDelivery(ClaimedForSending, TimestampedModel):
    """One event sent (or to be sent) to one subscription, with its latest attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id}: {self.status}"


class LanguagePreference(TimestampedModel):
    """The language one person chose with the header's switch: their pages after they sign in
    on any browser, and what their e-mails and text messages are written in.

    No row means they never chose: the browser's language (Accept-Language) decides.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="language_preference"
    )
    language = models.CharField(max_length=8)  # a code of settings.LANGUAGES

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"
