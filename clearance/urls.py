from django.urls import path

from clearance import views

urlpatterns = [
    path("queue/", views.queue, name="clearance-queue"),
    path("clearances/<int:pk>/", views.clearance_detail, name="clearance-detail"),
    path("clearances/<int:pk>/claim/", views.clearance_claim, name="clearance-claim"),
    path("clearances/<int:pk>/decide/", views.clearance_decide, name="clearance-decide"),
    path("clearances/<int:pk>/emission-check/", views.emission_check, name="emission-check"),
    path("organisation/", views.organisation, name="organisation"),
    path(
        "organisation/members/<int:pk>/deactivate/",
        views.membership_deactivate,
        name="membership-deactivate",
    ),
    path("organisation/api-keys/", views.api_key_index, name="api-key-index"),
    path("organisations/<int:organisation_id>/api-keys/", views.api_keys, name="api-keys"),
    path(
        "organisations/<int:organisation_id>/api-keys/<int:pk>/revoke/",
        views.api_key_revoke_view,
        name="api-key-revoke",
    ),
]
