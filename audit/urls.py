from django.urls import path

from audit import views

urlpatterns = [
    path("", views.ledger_page, name="ledger"),
    path("entries/<int:seq>/verify/", views.entry_verify, name="ledger-verify"),
]
