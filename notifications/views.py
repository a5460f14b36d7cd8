"""Browser pages and HTMX fragments; every one reads and writes only request.user's own
(and, for webhooks, only the organisations the user administers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kernel.auth import AuthenticatedHttpRequest
from notifications import webhooks
from notifications.context_processors import BELL_LATEST
from notifications.forms import PageForm, WebhookSubscriptionForm, preference_formset
from notifications.selectors import (
    events_for,
    mobile_number_of,
    notifications_for_user,
    preferences_for,
    unread_count,
)
from notifications.services import (
    notification_mark_read,
    notifications_mark_all_read,
    preferences_update,
)

PAGE_SIZE = 20


@login_required
@require_GET
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notifications_for_user(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/list.html", {"page": page})


def _back_to_list(request: HttpRequest) -> HttpResponse:
    page = PageForm(request.POST).page_number()
    url = reverse("notifications:list")
    return redirect(f"{url}?page={page}" if page > 1 else url)


@login_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = notification_mark_read(user=request.user, notification_id=pk)
    if request.htmx:
        return render(request, "notifications/_item.html", {"notification": notification})
    return _back_to_list(request)


@login_required
@require_POST
def notification_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return _back_to_list(request)


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell fragment: unread count and latest notifications, refreshed by HTMX."""
    if not request.user.is_authenticated:
        # An HTMX refresh after the session ended: leave the page alone instead of swapping
        # the login page into the header.
        return HttpResponse(status=204)
    context = {
        "unread_count": unread_count(request.user),
        "bell_latest": notifications_for_user(request.user)[:BELL_LATEST],
    }
    return render(request, "notifications/_bell.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each event the user may receive, with two checkboxes (email, SMS); in-app
    notifications are always on."""
    initial = [
        {"event": event, "email": choice.email, "sms": choice.sms}
        for event, choice in preferences_for(request.user).items()
    ]
    formset = preference_formset(
        events_for(request.user), data=request.POST or None, initial=initial
    )
    if request.method == "POST" and formset.is_valid():
        preferences_update(user=request.user, choices=formset.choices())
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"formset": formset, "has_mobile": bool(mobile_number_of(request.user.pk))},
    )


WEBHOOK_LOG_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The subscriptions of the organisations the user administers, and a form for a new one.

    A new subscription's secret is rendered once in the POST response, never stored in the
    session or a message, and never shown again.
    """
    organisations = webhooks.webhook_organisations_for_user(request.user)
    form = WebhookSubscriptionForm(request.POST or None, organisations=organisations)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        created, secret = webhooks.subscribe(
            user=request.user,
            organisation_id=form.cleaned_data["organisation"].pk,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
        )
        form = WebhookSubscriptionForm(organisations=organisations)
    context = {
        "subscriptions": webhooks.webhook_subscriptions_for_user(request.user),
        "form": form,
        "can_subscribe": organisations.exists(),
        "created": created,
        "secret": secret,
    }
    return render(request, "notifications/webhooks.html", context)


@login_required
@require_GET
def webhook_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    subscription = webhooks.webhook_subscription_get_for_user(user=request.user, pk=pk)
    deliveries = webhooks.webhook_deliveries_of(subscription)[:WEBHOOK_LOG_SIZE]
    return render(
        request,
        "notifications/webhooks_detail.html",
        {"subscription": subscription, "deliveries": deliveries},
    )


@login_required
@require_POST
def webhook_pause(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    webhooks.subscription_pause(user=request.user, subscription_id=pk)
    messages.success(request, _("The subscription is paused."))
    return redirect("notifications:webhook-detail", pk=pk)


@login_required
@require_POST
def webhook_resume(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    webhooks.subscription_resume(user=request.user, subscription_id=pk)
    messages.success(
        request, _("The subscription is active again; pending deliveries will be sent.")
    )
    return redirect("notifications:webhook-detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Ask, then delete: the delivery log goes with the subscription and nothing brings it
    back, so the admin confirms on this page first."""
    subscription = webhooks.webhook_subscription_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        webhooks.unsubscribe(user=request.user, subscription_id=subscription.pk)
        messages.success(request, _("The subscription is deleted."))
        return redirect("notifications:webhooks")
    return render(request, "notifications/webhook_delete.html", {"subscription": subscription})
