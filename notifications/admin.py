from django.contrib import admin

from notifications.models import Delivery, Notification


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ["channel", "state", "attempts", "last_error", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "event", "read_at", "created_at"]
    list_filter = ["event"]
    search_fields = ["title", "recipient__username"]
    raw_id_fields = ["recipient"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "state", "attempts", "sent_at"]
    list_filter = ["channel", "state"]
