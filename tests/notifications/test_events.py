"""Notification events are registered by the apps that raise them; notifications/ lists none.

The event here is declared in the tests package, the way an app declares its own: nothing in
notifications/ (no model choice, no migration) is touched for it.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from notifications import events, services
from notifications.events import NotificationEvent
from notifications.models import Delivery, Notification
from organisations.roles import Role, roles_of
from registry.models import OwnerProfile


@pytest.fixture
def inspection_due():
    """An owner's event whose declared default is SMS as well as e-mail."""
    event = events.register(
        NotificationEvent(
            "inspection_due",
            label="Vehicle inspection due",
            audience={Role.OWNER},
            email=True,
            sms=True,
        )
    )
    yield event
    events.unregister(event.name)


def test_an_event_registered_outside_notifications_is_offered_to_its_audience_only(
    world, client, inspection_due
):
    client.force_login(world.owner)
    owner_page = client.get("/notifications/preferences/")
    client.force_login(world.hpg_officer)
    officer_page = client.get("/notifications/preferences/")

    assert "Vehicle inspection due" in owner_page.content.decode()
    assert "Vehicle inspection due" not in officer_page.content.decode()


def test_an_event_s_declared_default_channels_apply_until_the_person_chooses(world, inspection_due):
    OwnerProfile.objects.create(user=world.owner, mobile_number="09171234567")

    [notification] = services.notify(
        recipients=[world.owner],
        event=inspection_due,
        title="Inspection due for NAA 1234",
        body="",
        link="/",
    )

    assert notification.event == "inspection_due"
    assert set(notification.deliveries.values_list("channel", flat=True)) == {
        Delivery.Channel.EMAIL,
        Delivery.Channel.SMS,
    }


def test_notifying_an_event_no_app_registers_is_an_error_and_writes_nothing(world):
    with pytest.raises(LookupError, match="inspection_due"):
        services.notify(
            recipients=[world.owner], event="inspection_due", title="t", body="", link=""
        )

    assert not Notification.objects.exists()


def test_a_second_different_event_under_a_taken_name_is_refused(inspection_due):
    with pytest.raises(ValueError, match="already registered"):
        events.register(
            NotificationEvent("inspection_due", label="Something else", audience={Role.LTO})
        )


@pytest.mark.usefixtures("without_world")
def test_every_notification_of_the_demo_goes_to_someone_its_event_is_declared_for():
    call_command("load_demo", stdout=StringIO())

    sent = Notification.objects.select_related("recipient")
    assert {notification.event for notification in sent} >= {
        "application_submitted",
        "clearance_requested",
        "clearance_approved",
        "registration_approved",
    }
    for notification in sent:
        event = events.get(notification.event)
        assert roles_of(notification.recipient) & event.audience, (
            f"{notification.recipient} got {event} but is {set(roles_of(notification.recipient))}"
        )
