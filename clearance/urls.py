from django.urls import path

from clearance import kinds, views

urlpatterns = [
    path("applications/<int:pk>/send/", views.application_send, name="application-send"),
    path(
        "applications/<int:pk>/clearances/<int:request_pk>/cancel/",
        views.application_clearance_cancel,
        name="application-clearance-cancel",
    ),
    path("verify/", views.verify_search, name="verify-search"),
    path("verify/<str:reference>", views.verify, name="verify"),
    path("queue/", views.queue, name="clearance-queue"),
    path("clearances/<int:pk>/", views.clearance_detail, name="clearance-detail"),
    path("clearances/<int:pk>/claim/", views.clearance_claim, name="clearance-claim"),
    path("clearances/<int:pk>/decide/", views.clearance_decide, name="clearance-decide"),
    path("clearances/<int:pk>/evidence/", views.clearance_evidence, name="clearance-evidence"),
    path(
        "clearance-changes/<uuid:change_id>/reenter/",
        views.change_reenter,
        name="clearance-change-reenter",
    ),
    path("organisation/", views.organisation, name="organisation"),
    # Pages of a kind's own, such as emission's live limit check.
    *(pattern for kind in kinds.kinds() for pattern in kind.urls),
]
