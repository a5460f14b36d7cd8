from django.urls import path

from audit import log_views, views

urlpatterns = [
    path("", views.ledger_page, name="ledger"),
    path("entries/<int:seq>/verify/", views.entry_verify, name="ledger-verify"),
    path("checkpoint", log_views.checkpoint, name="ledger-checkpoint"),
    path("key", log_views.verifier_key, name="ledger-verifier-key"),
    path("tile/<path:path>", log_views.tile, name="ledger-tile"),
]
