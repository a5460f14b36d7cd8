"""REST operations on a person's notifications and on organisations' webhook subscriptions.

Each class parses input, calls the selector or service the browser pages use, and renders;
errors propagate to ``api.problems.problem_exception_handler``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import AuthenticatedRequest, caller_key
from api.conditional import IF_NONE_MATCH_PARAMETER, conditional_response, conditional_responses
from api.idempotency import idempotent
from api.pagination import PAGE_PARAMETERS, Cursor, page_of
from api.permissions import HasKeyScope, SessionOnly
from api.problems import problem_responses
from notifications import webhooks
from notifications.models import WebhookSubscription
from notifications.selectors import notifications_for_user, unread_count
from notifications.serializers import (
    NotificationSerializer,
    WebhookDeliverySerializer,
    WebhookEventField,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)
from notifications.services import notification_mark_read, notifications_mark_all_read
from organisations.access import Action
from organisations.models import Organisation

NOTIFICATION_TAGS = ["notifications"]
WEBHOOK_TAGS = ["webhooks"]


# Notifications ---------------------------------------------------------------------------


class NotificationPageSerializer(
    page_of(NotificationSerializer, "NotificationPageBase")  # type: ignore[misc]  # built at run time
):
    unread_count = serializers.IntegerField(help_text="How many of yours are unread, in all.")

    class Meta:
        ref_name = "NotificationPage"


class NotificationListApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(
            required=False,
            allow_null=True,
            default=None,
            help_text="true: only unread ones; false: only read ones.",
        )

    @extend_schema(
        operation_id="notifications_list",
        tags=NOTIFICATION_TAGS,
        summary="Your notifications, newest first",
        description=(
            "Only the signed-in person's own notifications (API keys act for an organisation "
            "and have none). Paged by cursor, with the total of unread ones."
        ),
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: NotificationPageSerializer, **problem_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        notifications = notifications_for_user(request.user)
        unread = filters.validated_data["unread"]
        if unread is not None:
            notifications = notifications.filter(read_at__isnull=unread)
        paginator = Cursor()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(notifications, request, self)
        response = paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread_count"] = unread_count(request.user)
        return response


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    @extend_schema(
        operation_id="notifications_mark_read",
        tags=NOTIFICATION_TAGS,
        summary="Mark one of your notifications read",
        description="Marking it again changes nothing. Anyone else's notification is a 404.",
        request=None,
        responses={
            200: NotificationSerializer,
            **problem_responses(401, 403, 404, 409, 422, 429),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        notification = notification_mark_read(user=request.user, notification_id=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    permission_classes = [IsAuthenticated, SessionOnly]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "NotificationsMarked"

        marked = serializers.IntegerField(help_text="How many were unread and are now read.")
        unread_count = serializers.IntegerField()

    @extend_schema(
        operation_id="notifications_mark_all_read",
        tags=NOTIFICATION_TAGS,
        summary="Mark all your notifications read",
        request=None,
        responses={200: OutputSerializer, **problem_responses(401, 403, 409, 422, 429)},
        examples=[OpenApiExample("Three marked", value={"marked": 3, "unread_count": 0})],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        marked = notifications_mark_all_read(user=request.user)
        data = {"marked": marked, "unread_count": unread_count(request.user)}
        return Response(self.OutputSerializer(data).data)


# Webhook subscriptions -------------------------------------------------------------------


def webhook_organisations_for_caller(request: Request) -> QuerySet[Organisation]:
    """The organisations whose webhooks the caller manages; a key only its own, and only if
    the person who issued it manages that organisation's webhooks."""
    organisations = webhooks.webhook_organisations_for_user(request.user)
    key = caller_key(request)
    if key is not None:
        organisations = organisations.filter(pk=key.organisation_id)
    return organisations


def webhook_subscription_get_for_caller(request: Request, pk: int) -> WebhookSubscription:
    subscription = (
        webhooks.webhook_subscriptions_for_user(request.user)
        .filter(organisation__in=webhook_organisations_for_caller(request), pk=pk)
        .first()
    )
    if subscription is None:
        raise Http404(_("No such webhook subscription."))
    return subscription


class ManagesWebhooks(BasePermission):
    """Organisation admins and LTO staff (for the LTO's own), or keys of their organisation."""

    message = "Only an organisation's admins (or its API keys) manage its webhook subscriptions."

    def has_permission(self, request: Request, view: object) -> bool:
        return webhook_organisations_for_caller(request).exists()


class WebhookApi(APIView):
    """Reads need a key's read scope; changes its decide scope, the keys' write scope."""

    permission_classes = [IsAuthenticated, HasKeyScope, ManagesWebhooks]

    @property
    def required_action(self) -> Action:
        return Action.VIEW if self.request.method in SAFE_METHODS else Action.MANAGE_WEBHOOKS


_SUBSCRIPTION_EXAMPLE = {
    "id": 3,
    "organisation": "hpg",
    "url": "https://hooks.hpg.example.ph/talaan",
    "events": ["clearance.decided", "clearance.requested"],
    "is_active": True,
    "paused_at": None,
    "consecutive_failures": 0,
    "created_at": "2026-11-22T01:00:00Z",
    "updated_at": "2026-11-22T01:00:00Z",
}


class WebhookListApi(WebhookApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WebhookSubscriptionInput"

        organisation = serializers.CharField(
            required=False,
            help_text=(
                "The code of the organisation subscribing; optional when you manage one only "
                "(always the key's own with an API key)."
            ),
        )
        url = serializers.URLField(
            max_length=500,
            help_text="http or https, on a public address (private, loopback and link-local "
            "addresses are refused).",
        )
        events = serializers.ListField(child=WebhookEventField(), allow_empty=False)

    @extend_schema(
        operation_id="webhooks_list",
        tags=WEBHOOK_TAGS,
        summary="The webhook subscriptions of the organisations you manage",
        parameters=PAGE_PARAMETERS,
        responses={
            200: page_of(WebhookSubscriptionSerializer, "WebhookSubscriptionPage"),
            **problem_responses(401, 403, 429),
        },
    )
    def get(self, request: Request) -> Response:
        subscriptions = webhooks.webhook_subscriptions_for_user(request.user).filter(
            organisation__in=webhook_organisations_for_caller(request)
        )
        paginator = Cursor()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(subscriptions, request, self)
        data = WebhookSubscriptionSerializer(page, many=True).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="webhooks_create",
        tags=WEBHOOK_TAGS,
        summary="Subscribe a URL to events; the signing secret is shown in this answer only",
        description=(
            "Each delivery is a POST signed with the secret: `Talaan-Signature: t=<unix "
            'time>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">`. Reject deliveries whose `t` is '
            "more than 300 seconds from your clock. A URL on a private, loopback, link-local "
            "or otherwise internal address is a 422 naming `url`."
        ),
        request=InputSerializer,
        responses={
            201: WebhookSubscriptionCreatedSerializer,
            **problem_responses(400, 401, 403, 409, 422, 429),
        },
        examples=[
            OpenApiExample(
                "Decisions and requests",
                request_only=True,
                value={
                    "url": "https://hooks.hpg.example.ph/talaan",
                    "events": ["clearance.requested", "clearance.decided"],
                },
            ),
            OpenApiExample(
                "Subscribed",
                response_only=True,
                status_codes=["201"],
                value={**_SUBSCRIPTION_EXAMPLE, "secret": "whsec_3q2…"},
            ),
        ],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisations = webhook_organisations_for_caller(request)
        code = data.validated_data.get("organisation")
        if code is not None:
            organisation = organisations.filter(code=code).first()
            if organisation is None:
                # Well-formed, refused by who the caller is: a 422 naming the field.
                raise ValidationError(
                    {"organisation": ["You do not manage an organisation with this code."]}
                )
        else:
            candidates = list(organisations[:2])
            if len(candidates) != 1:
                raise serializers.ValidationError(
                    {"organisation": ["You manage several organisations; name one."]}
                )
            organisation = candidates[0]
        subscription, secret = webhooks.subscribe(
            user=request.user,
            organisation_id=organisation.pk,
            url=data.validated_data["url"],
            events=data.validated_data["events"],
        )
        subscription.secret = secret
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_retrieve",
        tags=WEBHOOK_TAGS,
        summary="One webhook subscription (its secret is never shown again)",
        description="Answers with an `ETag`; send it back in `If-None-Match` to get 304.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(WebhookSubscriptionSerializer),
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        subscription = webhook_subscription_get_for_caller(request, pk)
        return conditional_response(request, WebhookSubscriptionSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        tags=WEBHOOK_TAGS,
        summary="Delete a subscription and its delivery log",
        request=None,
        responses={204: None, **problem_responses(401, 403, 404, 429)},
    )
    def delete(self, request: AuthenticatedRequest, pk: int) -> Response:
        subscription = webhook_subscription_get_for_caller(request, pk)
        webhooks.unsubscribe(user=request.user, subscription_id=subscription.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookPauseApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_pause",
        tags=WEBHOOK_TAGS,
        summary="Stop sending; deliveries wait and go out once resumed",
        description="Pausing a paused subscription changes nothing.",
        request=None,
        responses={
            200: WebhookSubscriptionSerializer,
            **problem_responses(401, 403, 404, 409, 422, 429),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        subscription = webhook_subscription_get_for_caller(request, pk)
        subscription = webhooks.subscription_pause(
            user=request.user, subscription_id=subscription.pk
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)


class WebhookResumeApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_resume",
        tags=WEBHOOK_TAGS,
        summary="Send again, from a clean failure count; pending deliveries go out",
        description="Resuming an active subscription changes nothing.",
        request=None,
        responses={
            200: WebhookSubscriptionSerializer,
            **problem_responses(401, 403, 404, 409, 422, 429),
        },
    )
    @idempotent
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        subscription = webhook_subscription_get_for_caller(request, pk)
        subscription = webhooks.subscription_resume(
            user=request.user, subscription_id=subscription.pk
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)


class WebhookDeliveryListApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_deliveries_list",
        tags=WEBHOOK_TAGS,
        summary="The delivery log of a subscription, newest first",
        description="Each delivery with its status, attempts, last response code and error.",
        parameters=PAGE_PARAMETERS,
        responses={
            200: page_of(WebhookDeliverySerializer, "WebhookDeliveryPage"),
            **problem_responses(401, 403, 404, 429),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        subscription = webhook_subscription_get_for_caller(request, pk)
        paginator = Cursor()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(
            webhooks.webhook_deliveries_of(subscription), request, self
        )
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
