from django.contrib import admin

from notifications.models import Delivery, Notification, NotificationPreference


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


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "email", "sms", "updated_at"]
    list_filter = ["event", "email", "sms"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
