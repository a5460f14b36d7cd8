from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from notifications.models import (
    Delivery,
    Notification,
    NotificationPreference,
    WebhookDelivery,
    WebhookSubscription,
)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ["channel", "state", "attempts", "last_error", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "event", "read_at", "created_at"]
    list_filter = ["event"]
    search_fields = ["title", "recipient__username", "dedupe_key"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["dedupe_key"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "state", "attempts", "sent_at", "updated_at"]
    list_filter = ["channel", "state"]
    list_select_related = ["notification"]
    raw_id_fields = ["notification"]
    # Who is sending it now, and until when nobody else will (notifications.claims).
    readonly_fields = ["claimed_until", "claimed_by"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "email", "sms", "updated_at"]
    list_filter = ["event", "email", "sms"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "organisation", "is_active", "consecutive_failures", "created_at"]
    list_filter = ["is_active", "organisation"]
    search_fields = ["url", "organisation__name"]
    raw_id_fields = ["created_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # The secret is never displayed again after creation (it is excluded as non-editable).
    readonly_fields = ["paused_at", "consecutive_failures", "created_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Created on /notifications/webhooks/ only, where the generated secret is shown once.
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "subscription",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["subscription"]
    raw_id_fields = ["subscription"]
    readonly_fields = [
        "event",
        "payload",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "claimed_until",
        "claimed_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
