from django.urls import path

from registry import (
    account_views,
    certificate,
    credential_views,
    deregistration_views,
    mortgage_views,
    sale_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", account_views.signup, name="signup"),
    path(
        "accounts/verify-email/<uidb64>/<token>/",
        account_views.verify_email,
        name="verify-email",
    ),
    path("vehicles/new/", views.vehicle_new, name="vehicle-new"),
    path("vehicles/<int:pk>/sell/", sale_views.sale_start, name="sale-start"),
    path("vehicles/<int:pk>/ownership/", sale_views.vehicle_ownership, name="vehicle-ownership"),
    path(
        "vehicles/<int:pk>/deregister/",
        deregistration_views.vehicle_deregister_page,
        name="vehicle-deregister",
    ),
    path("mortgages/", mortgage_views.mortgage_list, name="mortgages"),
    path("mortgages/<str:reference>/", mortgage_views.mortgage_detail, name="mortgage-detail"),
    path(
        "mortgages/<str:reference>/answer/",
        mortgage_views.mortgage_answer,
        name="mortgage-answer",
    ),
    path(
        "mortgages/<str:reference>/release/",
        mortgage_views.mortgage_release,
        name="mortgage-release",
    ),
    path(
        "mortgages/<str:reference>/withdraw/",
        mortgage_views.mortgage_withdraw,
        name="mortgage-withdraw",
    ),
    path("sales/<int:pk>/", sale_views.sale_detail, name="sale-detail"),
    path("sales/<int:pk>/notice/", sale_views.sale_notice, name="sale-notice"),
    path("sales/<int:pk>/deed/", sale_views.sale_deed, name="sale-deed"),
    path("sales/<int:pk>/withdraw/", sale_views.sale_withdraw, name="sale-withdraw"),
    path("sales/<int:pk>/cancel/", sale_views.sale_cancel, name="sale-cancel"),
    path("sales/answer/<str:token>/", sale_views.sale_answer, name="sale-answer"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/live/", views.application_live, name="application-live"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application-submit"),
    path(
        "applications/<int:pk>/resubmit/", views.application_resubmit, name="application-resubmit"
    ),
    path("applications/<int:pk>/cancel/", views.application_cancel, name="application-cancel"),
    path("applications/<int:pk>/vehicle/", views.vehicle_correct, name="vehicle-correct"),
    path("applications/<int:pk>/review/", views.application_review, name="application-review"),
    path("applications/<int:pk>/return/", views.application_return, name="application-return"),
    path("applications/<int:pk>/approve/", views.registration_approve, name="registration-approve"),
    path("applications/<int:pk>/reject/", views.registration_reject, name="registration-reject"),
    path("applications/<int:pk>/documents/", views.document_add, name="document-add"),
    path(
        "applications/<int:pk>/documents/<int:document_pk>/",
        views.document_detail,
        name="document-detail",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_pk>/file",
        views.document_download,
        name="document-download",
    ),
    path("applications/<int:pk>/certificate.pdf", certificate.download, name="certificate"),
    path(
        "applications/<int:pk>/credential.jwt",
        credential_views.credential_download,
        name="certificate-credential",
    ),
    path(
        "credentials/status/<int:list_number>",
        credential_views.status_list_credential,
        name="credential-status-list",
    ),
    path(".well-known/jwks.json", credential_views.jwks, name="credential-jwks"),
    path(".well-known/jwt-vc-issuer", credential_views.issuer_metadata, name="jwt-vc-issuer"),
    path("lto/applications/", views.lto_queue, name="lto-queue"),
]
