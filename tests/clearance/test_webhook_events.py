"""The workflow services tell subscribed integrators what happened, in the same transaction."""

from __future__ import annotations

from notifications.models import WebhookDelivery
from notifications.webhooks import subscribe
from registry import services as registry_services
from tests.conftest import claim_and_approve, sent_for_clearance
from tests.paying import pay_in_full


def test_clearance_and_registration_events_reach_the_organisations_subscribed(world):
    subscribe(
        user=world.hpg_admin,
        organisation_id=world.hpg.pk,
        url="https://hpg.example.ph/hooks",
        events=["clearance.requested", "clearance.decided"],
    )
    subscribe(
        user=world.lto_admin,
        organisation_id=world.lto.pk,
        url="https://lto.example.ph/hooks",
        events=["clearance.decided", "registration.decided"],
    )
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    hpg = list(
        WebhookDelivery.objects.filter(subscription__organisation=world.hpg)
        .order_by("pk")
        .values_list("event", "payload")
    )
    assert [event for event, _ in hpg] == ["clearance.requested", "clearance.decided"]
    assert hpg[1][1]["status"] == "approved" and hpg[1][1]["ledger_tx_id"]
    lto_events = list(
        WebhookDelivery.objects.filter(subscription__organisation=world.lto).values_list(
            "event", flat=True
        )
    )
    assert sorted(lto_events) == ["clearance.decided"] * 3 + ["registration.decided"]
    payloads = " ".join(str(p) for p in WebhookDelivery.objects.values_list("payload", flat=True))
    assert world.owner.last_name not in payloads and application.vehicle.vin not in payloads
