from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from audit import api as audit_api
from clearance import api as clearance_api
from notifications import api as notifications_api
from notifications import language
from payments import api as payments_api
from payments import payment_api, receipt_api
from registry import api as registry_api
from registry import credential_api, hold_api, mortgage_api, origin_api, sale_api
from talaan import health

handler404 = "api.problems.api_aware_404"
handler500 = "api.problems.api_aware_500"

api_v1 = [
    path("clearances/", clearance_api.ClearanceListApi.as_view(), name="clearances"),
    path("clearances/<int:pk>/", clearance_api.ClearanceDetailApi.as_view(), name="clearance"),
    path(
        "clearances/<int:pk>/claim/",
        clearance_api.ClearanceClaimApi.as_view(),
        name="clearance-claim",
    ),
    path(
        "clearances/<int:pk>/decide/",
        clearance_api.ClearanceDecideApi.as_view(),
        name="clearance-decide",
    ),
    path("status/", registry_api.StatusLookupApi.as_view(), name="status"),
    path("applications/", registry_api.ApplicationListApi.as_view(), name="applications"),
    path(
        "applications/<int:pk>/",
        registry_api.ApplicationDetailApi.as_view(),
        name="application",
    ),
    path(
        "applications/<int:pk>/assessment/",
        payments_api.ApplicationAssessmentApi.as_view(),
        name="application-assessment",
    ),
    path(
        "applications/<int:pk>/payments/",
        payment_api.ApplicationPaymentsApi.as_view(),
        name="application-payments",
    ),
    path(
        "applications/<int:pk>/approve/",
        registry_api.ApplicationApproveApi.as_view(),
        name="application-approve",
    ),
    path("payments/<str:reference>/", payment_api.PaymentDetailApi.as_view(), name="payment"),
    path(
        "payments/<str:reference>/refunds/",
        payment_api.PaymentRefundApi.as_view(),
        name="payment-refunds",
    ),
    path(
        "applications/<int:pk>/submit/",
        registry_api.ApplicationSubmitApi.as_view(),
        name="application-submit",
    ),
    path(
        "applications/<int:pk>/resubmit/",
        registry_api.ApplicationResubmitApi.as_view(),
        name="application-resubmit",
    ),
    path("receipts/", receipt_api.ReceiptListApi.as_view(), name="receipts"),
    path("receipts/<str:number>/", receipt_api.ReceiptDetailApi.as_view(), name="receipt"),
    path("receipts/<str:number>/pdf/", receipt_api.ReceiptPdfApi.as_view(), name="receipt-pdf"),
    path("receipts/<str:number>/void/", receipt_api.ReceiptVoidApi.as_view(), name="receipt-void"),
    path(
        "certificates/<str:number>/credential/",
        credential_api.CertificateCredentialApi.as_view(),
        name="certificate-credential",
    ),
    path("vehicles/", registry_api.VehicleListApi.as_view(), name="vehicles"),
    path("vehicles/<int:pk>/", registry_api.VehicleDetailApi.as_view(), name="vehicle"),
    path("origins/", origin_api.OriginListApi.as_view(), name="origins"),
    path("origins/<int:pk>/", origin_api.OriginDetailApi.as_view(), name="origin"),
    path("origins/<int:pk>/sales/", origin_api.OriginSaleApi.as_view(), name="origin-sell"),
    path(
        "vehicles/<int:pk>/deregister/",
        registry_api.VehicleDeregisterApi.as_view(),
        name="vehicle-deregister",
    ),
    path("holds/", hold_api.HoldListApi.as_view(), name="holds"),
    path("holds/<str:reference>/lift/", hold_api.HoldLiftApi.as_view(), name="hold-lift"),
    path("mortgages/", mortgage_api.MortgageListApi.as_view(), name="mortgages"),
    path("mortgages/<str:reference>/", mortgage_api.MortgageDetailApi.as_view(), name="mortgage"),
    path(
        "mortgages/<str:reference>/consent/",
        mortgage_api.MortgageConsentApi.as_view(),
        name="mortgage-consent",
    ),
    path(
        "mortgages/<str:reference>/release/",
        mortgage_api.MortgageReleaseApi.as_view(),
        name="mortgage-release",
    ),
    path("sales/", sale_api.SaleListApi.as_view(), name="sales"),
    path("sales/answer/", sale_api.SaleAnswerApi.as_view(), name="sale-answer"),
    path("sales/<int:pk>/", sale_api.SaleDetailApi.as_view(), name="sale"),
    path("sales/<int:pk>/withdraw/", sale_api.SaleWithdrawApi.as_view(), name="sale-withdraw"),
    path("sales/<int:pk>/notice/", sale_api.SaleNoticeApi.as_view(), name="sale-notice"),
    path("sales/<int:pk>/cancel/", sale_api.SaleCancelApi.as_view(), name="sale-cancel"),
    path(
        "ledger/receipts/<str:tx_id>/",
        audit_api.ReceiptApi.as_view(),
        name="ledger-receipt",
    ),
    path(
        "ledger/receipts/<str:tx_id>/proof/",
        audit_api.InclusionProofApi.as_view(),
        name="ledger-proof",
    ),
    path(
        "ledger/vehicles/<str:vin>/history/",
        audit_api.VehicleHistoryApi.as_view(),
        name="ledger-vehicle-history",
    ),
    path(
        "notifications/",
        notifications_api.NotificationListApi.as_view(),
        name="notifications",
    ),
    path(
        "notifications/<int:pk>/read/",
        notifications_api.NotificationReadApi.as_view(),
        name="notification-read",
    ),
    path(
        "notifications/read-all/",
        notifications_api.NotificationReadAllApi.as_view(),
        name="notifications-read-all",
    ),
    path("webhooks/", notifications_api.WebhookListApi.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", notifications_api.WebhookDetailApi.as_view(), name="webhook"),
    path(
        "webhooks/<int:pk>/pause/",
        notifications_api.WebhookPauseApi.as_view(),
        name="webhook-pause",
    ),
    path(
        "webhooks/<int:pk>/resume/",
        notifications_api.WebhookResumeApi.as_view(),
        name="webhook-resume",
    ),
    path(
        "webhooks/<int:pk>/deliveries/",
        notifications_api.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("language/", language.set_language, name="set-language"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("ledger/", include("audit.urls")),
    path("", include("organisations.urls")),
    path("", include("clearance.urls")),
    path("notifications/", include("notifications.urls")),
    path("payments/", include("payments.payment_urls")),
    path("receipts/", include("payments.receipt_urls")),
    path("", include("registry.urls")),
]
