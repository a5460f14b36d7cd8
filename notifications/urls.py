from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/read/", views.notification_read, name="mark-read"),
    path("read-all/", views.notification_read_all, name="mark-all-read"),
    path("bell/", views.bell, name="bell"),
    path("preferences/", views.preferences, name="preferences"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/pause/", views.webhook_pause, name="webhook-pause"),
    path("webhooks/<int:pk>/resume/", views.webhook_resume, name="webhook-resume"),
    path("webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
]
