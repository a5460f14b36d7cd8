"""Payment pages: start a checkout, the provider callback, the sandbox's hosted checkout, the
page the payer returns to, LTO staff's refund; and the pay-button partial."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import PermissionDenied
from organisations.access import Caller
from payments import payment_services
from payments.gateways.base import InvalidCallback
from payments.models import Payment
from payments.payment_services import PaymentRefused

logger = logging.getLogger(__name__)

# The pay button carries what is paid for signed by the server, so a payer cannot edit the
# amount in the form. (At merge the amount comes from the assessment row instead.)
_PAYABLE_SALT = "payments.payable"


def pay_button(request: HttpRequest, application_id: int, assessment_id: int, amount_centavos: int):
    """The "Pay" button for an assessment, as HTML to put on the application page."""
    token = signing.dumps([application_id, assessment_id, amount_centavos], salt=_PAYABLE_SALT)
    return render_to_string(
        "payments/_pay_button.html",
        {"token": token, "amount_pesos": f"{amount_centavos // 100:,}.{amount_centavos % 100:02d}"},
        request=request,
    )


@login_required
@require_POST
def payment_start_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        application_id, assessment_id, amount = signing.loads(
            request.POST.get("payable", ""), salt=_PAYABLE_SALT
        )
    except (signing.BadSignature, ValueError, TypeError):
        raise PaymentRefused("This payment button is not valid. Reload the page.") from None
    url = payment_services.payment_start(
        payer=request.user,
        application_id=application_id,
        assessment_id=assessment_id,
        amount_centavos=amount,
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    return redirect(url)


@csrf_exempt  # A provider cannot hold our CSRF token; the signature is what is checked.
@require_POST
def callback(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in ("sandbox", "paymongo") or (
        provider == "sandbox" and settings.PAYMENT_GATEWAY != "sandbox"
    ):
        return JsonResponse({"error": "unknown provider"}, status=404)
    try:
        outcome = payment_services.callback_receive(provider, request.headers, request.body)
    except InvalidCallback as exc:
        logger.warning("Refused a %s payment callback: %s", provider, exc.message)
        return JsonResponse({"error": exc.message}, status=400)
    # Any verified event is acknowledged (200 with JSON, as PayMongo wants): a refused one
    # is recorded and retrying it cannot change the answer.
    return JsonResponse({"outcome": outcome})


def sandbox_checkout(request: HttpRequest, checkout_id: str) -> HttpResponse:
    """The sandbox provider's hosted checkout page: Pay or Cancel."""
    if settings.PAYMENT_GATEWAY != "sandbox":
        # Configuring a real gateway shuts the sandbox: nobody can pay for free any more.
        raise Http404("The sandbox gateway is not in use.")
    payment = get_object_or_404(Payment, provider="sandbox", provider_checkout_id=checkout_id)
    done = redirect("payment-done", payment.reference)
    if request.method == "POST":
        if request.POST.get("action") == "pay":
            payment_services.sandbox_pay(checkout_id)
        return done
    open_ = payment.status == Payment.Status.PENDING and payment.expires_at > timezone.now()
    return render(request, "payments/sandbox_checkout.html", {"payment": payment, "is_open": open_})


@login_required
def payment_done(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    payment = get_object_or_404(Payment, reference=reference)
    if payment.payer_id != request.user.pk and not Caller(request.user).is_lto_staff:
        raise PermissionDenied()
    return render(request, "payments/payment_done.html", {"payment": payment})


@login_required
@require_POST
def refund(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        amount = int(request.POST.get("amount_centavos", ""))
    except ValueError:
        raise PaymentRefused("The refund must be a whole number of centavos.") from None
    payment_services.refund_record(
        staff=request.user,
        payment_id=pk,
        amount_centavos=amount,
        reason=request.POST.get("reason", ""),
        reference=request.POST.get("reference", ""),
    )
    payment = get_object_or_404(Payment, pk=pk)
    return redirect("payment-done", payment.reference)
