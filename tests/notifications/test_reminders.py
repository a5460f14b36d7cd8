"""Beat jobs: overdue clearances escalate to admins once; owners hear of expiry 30/7/1 days out."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from chaincode.rules import ApplicationStatus
from clearance.events import CLEARANCE_OVERDUE
from clearance.models import ClearanceRequest
from clearance.reminders import clearances_overdue_notify
from notifications import services
from notifications.models import Notification
from registry.events import REGISTRATION_EXPIRING
from registry.reminders import registrations_expiring_notify
from tests.conftest import claim_and_approve, sent_for_clearance
from tests.factories import ApplicationFactory, VehicleFactory


def recipients_of(event):
    return sorted(
        Notification.objects.filter(event=event).values_list("recipient__username", flat=True)
    )


@pytest.fixture
def hpg_overdue(world):
    _, requests = sent_for_clearance(world)
    Notification.objects.all().delete()
    hpg = requests["HPG"]
    ClearanceRequest.objects.filter(pk=hpg.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    return requests


def test_an_overdue_request_notifies_lto_admins_and_the_organisations_admins(world, hpg_overdue):
    written = clearances_overdue_notify()

    assert written == 2
    # Officers are not escalated to; other organisations' requests are not yet due.
    assert recipients_of(CLEARANCE_OVERDUE) == ["hpg.admin", "lto.admin"]
    notification = Notification.objects.filter(event=CLEARANCE_OVERDUE).first()
    assert "HPG clearance" in notification.title and "overdue" in notification.title
    assert notification.link == f"/applications/{hpg_overdue['HPG'].application_id}/"


def test_the_overdue_job_notifies_only_once_however_often_it_runs(world, hpg_overdue):
    clearances_overdue_notify()

    assert clearances_overdue_notify() == 0
    assert clearances_overdue_notify() == 0
    assert recipients_of(CLEARANCE_OVERDUE) == ["hpg.admin", "lto.admin"]


def test_a_request_under_review_past_its_deadline_is_overdue_too(world, hpg_overdue):
    from clearance.services import clearance_claim

    clearance_claim(request_id=hpg_overdue["HPG"].pk, officer=world.hpg_officer)

    assert clearances_overdue_notify() == 2


def test_a_decided_request_is_never_overdue(world, hpg_overdue):
    claim_and_approve(world, hpg_overdue["HPG"])
    Notification.objects.all().delete()

    assert clearances_overdue_notify() == 0
    assert not Notification.objects.exists()


def test_a_new_deadline_that_is_missed_again_is_reported_again(world, hpg_overdue):
    clearances_overdue_notify()
    ClearanceRequest.objects.filter(pk=hpg_overdue["HPG"].pk).update(
        due_at=timezone.now() - dt.timedelta(minutes=5)
    )

    assert clearances_overdue_notify() == 2
    assert recipients_of(CLEARANCE_OVERDUE) == [
        "hpg.admin",
        "hpg.admin",
        "lto.admin",
        "lto.admin",
    ]


def test_the_dedupe_key_is_unique_per_recipient_in_the_database(world):
    services.notify(
        recipients=[world.owner],
        event=CLEARANCE_OVERDUE,
        title="t",
        body="",
        link="",
        dedupe_key="k",
    )

    # notify() itself skips someone already told ...
    assert (
        services.notify(
            recipients=[world.owner],
            event=CLEARANCE_OVERDUE,
            title="t",
            body="",
            link="",
            dedupe_key="k",
        )
        == []
    )
    # ... and the constraint stops a concurrent writer that did not see the first row.
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=world.owner, event=CLEARANCE_OVERDUE, title="t", dedupe_key="k"
        )


_plates = itertools.count(1000)


def approved_registration(world, *, ends_on: dt.date, owner=None):
    owner = owner or world.owner
    return ApplicationFactory(
        applicant=owner,
        vehicle=VehicleFactory(owner=owner, plate_number=f"NAA {next(_plates)}"),
        status=ApplicationStatus.APPROVED,
        period_start=ends_on - dt.timedelta(days=3 * 365),
        period_end=ends_on,
    )


def test_owners_are_reminded_30_7_and_1_days_before_expiry_once_each(world):
    today = dt.date(2027, 3, 1)
    registration = approved_registration(world, ends_on=today + dt.timedelta(days=30))

    # Beat runs the job every hour; simulate several runs a day for the whole month.
    for day in range(31):
        for _ in range(3):
            registrations_expiring_notify(today=today + dt.timedelta(days=day))

    titles = list(
        Notification.objects.filter(event=REGISTRATION_EXPIRING)
        .order_by("id")
        .values_list("title", flat=True)
    )
    plate = registration.vehicle.plate_number
    assert titles == [
        f"Registration of {plate} expires in 30 days",
        f"Registration of {plate} expires in 7 days",
        f"Registration of {plate} expires in 1 day",
    ]
    assert recipients_of(REGISTRATION_EXPIRING) == ["owner.juan"] * 3


@pytest.mark.parametrize("days_left", [30, 7, 1])
def test_the_reminder_goes_out_on_the_day(world, days_left):
    today = dt.date(2027, 3, 1)
    approved_registration(world, ends_on=today + dt.timedelta(days=days_left))

    assert registrations_expiring_notify(today=today) == 1
    assert registrations_expiring_notify(today=today) == 0


def test_a_missed_run_is_caught_up_with_the_days_actually_left(world):
    today = dt.date(2027, 3, 1)
    approved_registration(world, ends_on=today + dt.timedelta(days=5))

    registrations_expiring_notify(today=today)

    [title] = Notification.objects.values_list("title", flat=True)
    assert title.endswith("expires in 5 days")


def test_no_reminder_for_a_registration_already_renewed_or_far_from_expiry(world):
    today = dt.date(2027, 3, 1)
    old = approved_registration(world, ends_on=today + dt.timedelta(days=7))
    ApplicationFactory(
        applicant=world.owner,
        vehicle=old.vehicle,
        type="renewal",
        status=ApplicationStatus.APPROVED,
        period_start=old.period_end + dt.timedelta(days=1),
        period_end=old.period_end + dt.timedelta(days=365),
    )
    approved_registration(world, ends_on=today + dt.timedelta(days=31))

    assert registrations_expiring_notify(today=today) == 0


def test_no_reminder_for_an_application_that_was_never_approved(world):
    today = dt.date(2027, 3, 1)
    application = approved_registration(world, ends_on=today + dt.timedelta(days=7))
    application.status = ApplicationStatus.REJECTED
    application.save(update_fields=["status"])

    assert registrations_expiring_notify(today=today) == 0
