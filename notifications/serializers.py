"""Serializers of the notification and webhook operations."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from notifications.models import (
    Notification,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)


class WebhookEventField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(WebhookEvent.choices, **kwargs)


class NotificationSerializer(serializers.ModelSerializer):
    event = serializers.CharField(
        help_text="The event's name, e.g. clearance_approved (each app registers its own)."
    )
    link = serializers.CharField(help_text="A path on this site, e.g. /applications/12/.")

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "link", "read_at", "created_at"]
        ref_name = "Notification"


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.code")
    events = serializers.ListField(child=WebhookEventField())

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "organisation",
            "url",
            "events",
            "is_active",
            "paused_at",
            "consecutive_failures",
            "created_at",
            "updated_at",
        ]
        ref_name = "WebhookSubscription"


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery (Talaan-Signature). Shown in this answer only: keep it."
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        ref_name = "WebhookSubscriptionCreated"


class WebhookDeliverySerializer(serializers.ModelSerializer):
    # A plain string in the schema: an "event" enum already names the notification events.
    event = serializers.CharField(
        help_text="clearance.requested, clearance.decided or registration.decided."
    )
    payload = serializers.DictField(
        child=serializers.JSONField(), help_text="The event's data, as sent in `data`."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
        ]
        ref_name = "WebhookDelivery"
