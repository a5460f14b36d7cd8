"""Payment pages: start a checkout, the provider callback, the sandbox's hosted checkout, the
page the payer returns to, LTO staff's refund; and the pay-button partial."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, UserError, describe
from kernel.forms_http import form_action
from kernel.i18n import Message
from payments import payment_services
from payments.fees import pesos
from payments.gateways.base import InvalidCallback
from payments.models import Payment
from payments.payment_forms import RefundForm
from payments.payment_selectors import payment_get_for_user
from payments.payment_services import PaymentRefused
from registry.models import RegistrationApplication
from registry.selectors import application_get_for_user
from registry.views import application_context

logger = logging.getLogger(__name__)

# The pay button carries what the payer was shown, signed by the server. The amount charged
# is never taken from it: the start recomputes the assessment and refuses (422) when the
# total shown is no longer the amount due.
_PAYABLE_SALT = "payments.payable"


def pay_button(
    request: HttpRequest, application_id: int, assessment_id: int, amount_centavos: int
) -> str:
    """The "Pay" button for an assessment, as HTML to put on the application page."""
    token = signing.dumps([application_id, assessment_id, amount_centavos], salt=_PAYABLE_SALT)
    return render_to_string(
        "payments/_pay_button.html",
        {"token": token, "amount_pesos": f"{amount_centavos // 100:,}.{amount_centavos % 100:02d}"},
        request=request,
    )


@login_required
@form_action("home")
def payment_start_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        application_id, _assessment_id, amount_shown = signing.loads(
            request.POST.get("payable", ""), salt=_PAYABLE_SALT
        )
    except (signing.BadSignature, ValueError, TypeError):
        raise PaymentRefused(_("This payment button is not valid. Reload the page.")) from None
    application = application_get_for_user(user=request.user, pk=application_id)
    try:
        payment, _checkout = payment_services.application_payment_start(
            payer=request.user,
            application_id=application.pk,
            expected_amount_centavos=amount_shown,
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except USER_ERRORS as exc:
        return _application_page_with_error(request, application, exc)
    return redirect(payment.redirect_url)


def _application_page_with_error(
    request: HttpRequest, application: RegistrationApplication, exc: UserError
) -> HttpResponse:
    info = describe(exc)
    application.refresh_from_db()
    context = {**application_context(request, application), "error": info}
    return render(request, "registry/application_detail.html", context, status=info.status)


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
        raise Http404(_("The sandbox gateway is not in use."))
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
    payment = payment_get_for_user(user=request.user, reference=reference)
    return render(request, "payments/payment_done.html", {"payment": payment})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def refund(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """LTO staff refund (part of) a paid payment from the application's page; a GET here (a
    reload after a refused refund) goes back to that page (kernel.forms_http)."""
    payment = get_object_or_404(Payment, pk=pk)
    application = application_get_for_user(user=request.user, pk=payment.application_id)
    if request.method != "POST":
        return redirect("application-detail", application.pk)
    form = RefundForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(dict(form.errors.items()))
        refund = payment_services.refund_record(
            staff=request.user,
            payment_id=payment.pk,
            amount_centavos=form.amount_centavos,
            reason=form.cleaned_data["reason"],
            reference=form.cleaned_data["reference"],
        )
    except USER_ERRORS as exc:
        return _application_page_with_error(request, application, exc)
    messages.success(
        request,
        str(
            Message(
                _("Refund %(reference)s of %(amount)s recorded on %(payment)s."),
                {
                    "reference": refund.reference,
                    "amount": pesos(refund.amount_centavos),
                    "payment": payment.reference,
                },
            )
        ),
    )
    return redirect("application-detail", application.pk)
