"""Renewal on the LTO's schedule: the plate's last digit gives the month, the second-last the
week; a first registration ends at the slot in its third year, renewals a year on; renewal
opens RENEWAL_OPENS_DAYS_BEFORE days before the slot and is late after it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kernel.errors import Conflict
from registry import schedule
from registry import services as registry_services
from registry.models import RegistrationApplication, RegistrationPeriod
from tests.conftest import (
    claim_and_approve,
    filed_application,
    registered_application,
    sent_for_clearance,
)
from tests.paying import pay_in_full


@pytest.mark.parametrize(
    ("plate", "first", "last"),
    [
        # The worked examples.
        ("NBC 1234", dt.date(2027, 4, 1), dt.date(2027, 4, 7)),
        ("TGP 4567", dt.date(2027, 7, 8), dt.date(2027, 7, 14)),
        ("ABC 1290", dt.date(2027, 10, 22), dt.date(2027, 10, 31)),
    ],
)
def test_the_worked_examples(plate, first, last):
    assert schedule.slot_in(plate, 2027) == schedule.Slot(first, last)


@pytest.mark.parametrize("last_digit", range(10))
def test_every_last_digit_names_its_month(last_digit):
    month = {0: 10}.get(last_digit, last_digit)

    assert schedule.slot_in(f"XYZ 11{last_digit}", 2027).first.month == month


@pytest.mark.parametrize(
    ("digit", "days"),
    [
        (1, (1, 7)),
        (2, (1, 7)),
        (3, (1, 7)),
        (4, (8, 14)),
        (5, (8, 14)),
        (6, (8, 14)),
        (7, (15, 21)),
        (8, (15, 21)),
        (9, (22, 28)),
        (0, (22, 28)),
    ],
)
def test_every_second_last_digit_names_its_week(digit, days):
    # February 2027 ends on the 28th: the fourth week runs to the month's end.
    slot = schedule.slot_in(f"XYZ 1{digit}2", 2027)

    assert (slot.first.day, slot.last.day) == days


def test_a_first_registration_ends_at_the_slot_in_its_third_year():
    assert schedule.first_period_end("NBC 1234", dt.date(2026, 12, 1)) == dt.date(2029, 4, 7)
    assert schedule.first_period_end("NBC 1234", dt.date(2026, 2, 1)) == dt.date(2028, 4, 7)
    assert schedule.renewal_period_end("NBC 1234", dt.date(2029, 4, 7)) == dt.date(2030, 4, 7)


def test_a_plate_without_two_digits_has_no_schedule():
    with pytest.raises(schedule.NoSchedule):
        schedule.slot_in("ABC", 2027)


def test_approval_sets_the_first_period_from_the_issued_plate(world):
    application = registered_application(world, plate="NBC 1234")

    start = application.period_start
    assert application.period_end == schedule.first_period_end("NBC 1234", start)
    assert application.period_end.month == 4 and application.period_end.day == 7
    period = RegistrationPeriod.objects.get(application=application)
    assert period.valid_to == application.period_end


def renew(world, vehicle, today):
    return registry_services.application_create(
        applicant=world.owner, vehicle_id=vehicle.pk, type="renewal", today=today
    )


def test_a_renewal_filed_early_on_time_or_late(world, settings):
    settings.RENEWAL_OPENS_DAYS_BEFORE = 60
    first = registered_application(world, plate="NBC 1234")
    vehicle, due_end = first.vehicle, first.period_end  # 7 April of the third year
    due_start = due_end.replace(day=1)

    with pytest.raises(Conflict, match=f"opens on {due_start - dt.timedelta(days=60):%d %B %Y}"):
        renew(world, vehicle, due_start - dt.timedelta(days=61))
    assert not RegistrationApplication.objects.filter(type="renewal").exists()

    on_time = renew(world, vehicle, due_start - dt.timedelta(days=60))
    assert not on_time.filed_late
    assert (on_time.period_start, on_time.period_end) == (
        due_end + dt.timedelta(days=1),
        due_end.replace(year=due_end.year + 1),
    )
    on_time.delete()

    late_day = due_end + dt.timedelta(days=3)
    late = renew(world, vehicle, late_day)
    assert late.filed_late
    assert (late.period_start, late.period_end) == (
        late_day,
        due_end.replace(year=due_end.year + 1),
    )


def test_only_the_registered_owner_of_a_registered_vehicle_renews(world):
    unregistered = filed_application(world).vehicle
    registry_services.application_cancel(
        application_id=unregistered.applications.get().pk, actor=world.owner
    )

    with pytest.raises(ValidationError, match="registered owner of a registered vehicle"):
        renew(world, unregistered, dt.date(2027, 1, 1))


def test_a_second_first_registration_is_refused_pointing_to_renewal_or_transfer(world):
    vehicle = registered_application(world, plate="NBC 1234").vehicle
    before = RegistrationApplication.objects.count()

    with pytest.raises(ValidationError, match=r"already registered .*renew .* transfer"):
        registry_services.application_create(
            applicant=world.owner, vehicle_id=vehicle.pk, type="new"
        )

    assert RegistrationApplication.objects.count() == before


def test_a_late_renewal_says_so_on_its_page_and_in_the_api(world, client):
    first = registered_application(world, plate="NBC 1234")
    late = renew(world, first.vehicle, first.period_end + dt.timedelta(days=3))
    client.force_login(world.owner)

    page = client.get(f"/applications/{late.pk}/").content.decode()
    answer = client.get(f"/api/v1/applications/{late.pk}/").json()

    assert 'data-testid="filed-late">Filed late' in page
    assert answer["filed_late"] is True


def test_a_plate_the_lto_types_is_stored_as_issued_plates_are_and_never_twice(world):
    first = registered_application(world, plate="nbc1234")
    assert first.vehicle.plate_number == "NBC 1234"

    second, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(second)
    with pytest.raises(ValidationError, match="Plate NBC 1234 is already issued"):
        registry_services.registration_approve(
            application_id=second.pk, actor=world.lto_admin, plate_number="NBC  1234"
        )
    second.refresh_from_db()
    assert second.status == "cleared" and not second.vehicle.plate_number
