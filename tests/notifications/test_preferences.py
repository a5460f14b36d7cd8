"""Each person chooses, per event, whether a notification also comes by email or SMS."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from clearance.events import (
    CLEARANCE_APPROVED,
    CLEARANCE_OVERDUE,
    CLEARANCE_REQUESTED,
)
from notifications import services
from notifications.models import Delivery, Notification, NotificationPreference
from notifications.selectors import ChannelChoice, preferences_for
from registry.events import (
    APPLICATION_SUBMITTED,
    REGISTRATION_APPROVED,
    REGISTRATION_EXPIRING,
)
from registry.models import OwnerProfile
from tests.notifications.conftest import sent_sms


def notify_owner(world, event=REGISTRATION_APPROVED):
    return services.notify(
        recipients=[world.owner],
        event=event,
        title="Registration approved: plate NAA 1234",
        body="MV file number 1301-00000001.",
        link="/applications/1/",
    )


def channels_of(notification):
    return set(notification.deliveries.values_list("channel", flat=True))


def test_without_a_choice_email_is_on_and_sms_off(world):
    OwnerProfile.objects.create(user=world.owner, mobile_number="09171234567")

    [notification] = notify_owner(world)

    assert channels_of(notification) == {Delivery.Channel.EMAIL}


def test_email_turned_off_creates_no_email_delivery(world):
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_APPROVED: ChannelChoice(email=False, sms=False)},
    )

    [notification] = notify_owner(world)

    assert channels_of(notification) == set()
    assert Notification.objects.filter(recipient=world.owner).count() == 1  # in-app stays on


def test_email_off_for_one_event_leaves_other_events_alone(world):
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_APPROVED: ChannelChoice(email=False, sms=False)},
    )

    [notification] = notify_owner(world, event=CLEARANCE_APPROVED)

    assert channels_of(notification) == {Delivery.Channel.EMAIL}


def test_sms_on_with_a_mobile_number_is_sent_through_the_file_backend(
    world, sms_outbox, eager_celery, django_capture_on_commit_callbacks
):
    OwnerProfile.objects.create(user=world.owner, mobile_number="0917 123 4567")
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_APPROVED: ChannelChoice(email=False, sms=True)},
    )

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify_owner(world)

    [delivery] = notification.deliveries.all()
    assert delivery.channel == Delivery.Channel.SMS and delivery.state == Delivery.State.SENT
    [message] = sent_sms(sms_outbox)
    assert message["to"] == "+639171234567"
    assert message["text"].startswith("Registration approved: plate NAA 1234")
    assert message["text"].endswith("/applications/1/")
    assert mail.outbox == []


def test_sms_on_without_a_profile_sends_no_sms(world):
    # An officer has no owner profile, so there is no number to text.
    services.preferences_update(
        user=world.lto_admin,
        choices={APPLICATION_SUBMITTED: ChannelChoice(email=True, sms=True)},
    )

    [notification] = services.notify(
        recipients=[world.lto_admin],
        event=APPLICATION_SUBMITTED,
        title="New application",
        body="",
        link="",
    )

    assert channels_of(notification) == {Delivery.Channel.EMAIL}


def test_an_sms_whose_number_was_removed_is_skipped_not_retried(
    world, sms_outbox, eager_celery, django_capture_on_commit_callbacks
):
    profile = OwnerProfile.objects.create(user=world.owner, mobile_number="09171234567")
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_APPROVED: ChannelChoice(email=False, sms=True)},
    )
    [notification] = notify_owner(world)

    profile.mobile_number = ""
    profile.save(update_fields=["mobile_number"])
    services.delivery_send(delivery_id=notification.deliveries.get().pk)

    assert notification.deliveries.get().state == Delivery.State.SKIPPED
    assert sent_sms(sms_outbox) == []


def test_the_email_has_a_text_and_an_html_part_with_an_absolute_link(
    world, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_SITE_URL = "https://talaan.example.ph"

    with django_capture_on_commit_callbacks(execute=True):
        notify_owner(world)

    [message] = mail.outbox
    assert message.to == ["owner.juan@example.ph"]
    assert message.subject == "[Talaan] Registration approved: plate NAA 1234"
    assert "https://talaan.example.ph/applications/1/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert 'href="https://talaan.example.ph/applications/1/"' in html
    assert "https://talaan.example.ph/notifications/preferences/" in html


OWNER_EVENTS = [
    "application_returned",
    "application_cleared",
    "registration_approved",
    "registration_rejected",
    "registration_expiring",
    "clearance_approved",
    "clearance_rejected",
    "clearance_returned",
    "sale_answered",
    "sale_expired",
    "transfer_completed",
    "vehicle_deregistered",
    "hold_placed",
    "hold_lifted",
    "mortgage_consent_requested",
    "mortgage_annotated",
    "mortgage_released",
    "official_receipt_issued",
    "official_receipt_voided",
]


def test_an_owner_s_preferences_page_lists_only_the_events_an_owner_receives(world, client):
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_EXPIRING: ChannelChoice(email=False, sms=True)},
    )
    client.force_login(world.owner)

    response = client.get("/notifications/preferences/")

    assert response.status_code == 200
    formset = response.context["formset"]
    assert sorted(form.initial["event"] for form in formset) == sorted(OWNER_EVENTS)
    expiring = next(f for f in formset if f.initial["event"] == REGISTRATION_EXPIRING)
    assert expiring.initial["email"] is False and expiring.initial["sms"] is True
    page = response.content.decode()
    assert str(REGISTRATION_EXPIRING.label) in page  # labels are lazy: read in the page's language
    # Overdue clearances are told to admins, new requests to organisations' officers.
    assert str(CLEARANCE_OVERDUE.label) not in page
    assert str(CLEARANCE_REQUESTED.label) not in page


def test_each_role_sees_the_events_it_can_receive(world, client):
    def events_on_page(user):
        client.force_login(user)
        return {
            form.initial["event"]
            for form in client.get("/notifications/preferences/").context["formset"]
        }

    hpg_officer = events_on_page(world.hpg_officer)
    hpg_admin = events_on_page(world.hpg_admin)
    lto_admin = events_on_page(world.lto_admin)

    assert hpg_officer == {"clearance_requested", "clearance_cancelled"}
    assert hpg_admin == hpg_officer | {"clearance_overdue", "webhook_paused"}
    assert {"application_submitted", "clearance_approved", "clearance_overdue"} <= lto_admin
    assert not {"clearance_requested", "registration_expiring"} & lto_admin


def test_saving_the_preferences_page_stores_each_choice(world, client):
    client.force_login(world.owner)
    data = {"form-TOTAL_FORMS": len(OWNER_EVENTS), "form-INITIAL_FORMS": len(OWNER_EVENTS)}
    for index, event in enumerate(OWNER_EVENTS):
        data[f"form-{index}-event"] = event
        data[f"form-{index}-email"] = "on"  # an unchecked box is simply absent
    sms_index = OWNER_EVENTS.index(REGISTRATION_APPROVED)
    data[f"form-{sms_index}-sms"] = "on"
    del data[f"form-{sms_index}-email"]

    response = client.post("/notifications/preferences/", data)

    assert response.status_code == 302
    choices = preferences_for(world.owner)
    assert choices[REGISTRATION_APPROVED] == ChannelChoice(email=False, sms=True)
    assert choices[CLEARANCE_APPROVED] == ChannelChoice(email=True, sms=False)
    assert NotificationPreference.objects.filter(user=world.owner).count() == len(OWNER_EVENTS)
    assert not NotificationPreference.objects.exclude(user=world.owner).exists()


def test_an_event_the_person_cannot_receive_is_refused_and_nothing_saved(world, client):
    client.force_login(world.owner)
    data = {
        "form-TOTAL_FORMS": 2,
        "form-INITIAL_FORMS": 2,
        "form-0-event": REGISTRATION_APPROVED,
        "form-0-sms": "on",
        "form-1-event": CLEARANCE_REQUESTED,  # an organisation's event, not an owner's
    }

    response = client.post("/notifications/preferences/", data)

    assert response.status_code == 200  # the form again, with an error
    assert not NotificationPreference.objects.exists()
    with pytest.raises(ValidationError, match="clearance_requested"):
        services.preferences_update(
            user=world.owner, choices={CLEARANCE_REQUESTED: ChannelChoice(email=True, sms=True)}
        )
    assert not NotificationPreference.objects.exists()


def test_the_preferences_page_refuses_an_unknown_or_repeated_event(world, client):
    client.force_login(world.owner)
    data = {
        "form-TOTAL_FORMS": 2,
        "form-INITIAL_FORMS": 2,
        "form-0-event": CLEARANCE_APPROVED,
        "form-1-event": CLEARANCE_APPROVED,
    }

    repeated = client.post("/notifications/preferences/", data)
    unknown = client.post(
        "/notifications/preferences/", {**data, "form-1-event": "everything_everywhere"}
    )

    assert repeated.status_code == unknown.status_code == 200  # the form again, with errors
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_preferences_page_needs_a_signed_in_user(client, db, method):
    response = getattr(client, method)("/notifications/preferences/")

    assert response.status_code == 302 and "/login/" in response["Location"]
