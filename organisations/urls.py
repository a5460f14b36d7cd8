from django.urls import path

from organisations import views

urlpatterns = [
    path(
        "organisation/members/<int:pk>/deactivate/",
        views.membership_deactivate_view,
        name="membership-deactivate",
    ),
    path(
        "organisation/members/<int:pk>/reactivate/",
        views.membership_reactivate_view,
        name="membership-reactivate",
    ),
    path(
        "organisation/members/<int:pk>/resend-invitation/",
        views.membership_resend_view,
        name="membership-resend",
    ),
    path("organisation/api-keys/", views.api_key_index, name="api-key-index"),
    path("organisations/<int:organisation_id>/api-keys/", views.api_keys, name="api-keys"),
    path(
        "organisations/<int:organisation_id>/api-keys/<int:pk>/revoke/",
        views.api_key_revoke_view,
        name="api-key-revoke",
    ),
]
