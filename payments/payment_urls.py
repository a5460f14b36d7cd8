from django.urls import path

from payments import payment_views

urlpatterns = [
    path("start/", payment_views.payment_start_view, name="payment-start"),
    path("callback/<str:provider>/", payment_views.callback, name="payment-callback"),
    path(
        "sandbox/<str:checkout_id>/",
        payment_views.sandbox_checkout,
        name="payment-sandbox-checkout",
    ),
    path("done/<str:reference>/", payment_views.payment_done, name="payment-done"),
    path("<int:pk>/refund/", payment_views.refund, name="payment-refund"),
]
