from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/read/", views.notification_read, name="mark-read"),
    path("read-all/", views.notification_read_all, name="mark-all-read"),
    path("bell/", views.bell, name="bell"),
    path("preferences/", views.preferences, name="preferences"),
]
