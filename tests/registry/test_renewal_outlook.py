"""The owner's vehicles say when each registration falls due and when it may be renewed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from registry import schedule
from registry.models import RegistrationPeriod
from tests.conftest import registered_application

pytestmark = pytest.mark.django_db


def _due(world, plate: str, valid_to: dt.date):
    application = registered_application(world, plate=plate)
    RegistrationPeriod.objects.filter(application=application).update(
        valid_from=valid_to - dt.timedelta(days=1000), valid_to=valid_to
    )
    return application.vehicle


def test_a_registration_not_yet_due_shows_its_end_and_when_renewal_opens(client, world):
    today = timezone.localdate()
    # NBC 1234 falls due 1-7 April; two years on, its window is far away.
    vehicle = _due(world, "NBC 1234", dt.date(today.year + 2, 4, 7))
    client.force_login(vehicle.owner)

    page = client.get("/").content.decode()

    assert f"Valid until 7 Apr {today.year + 2}" in page
    opens = dt.date(today.year + 2, 4, 1) - dt.timedelta(days=60)  # RENEWAL_OPENS_DAYS_BEFORE
    assert f"Renewal opens {opens:%-d %b %Y}" in page
    assert "type=renewal" not in page


def _open_today(today: dt.date) -> tuple[str, schedule.Slot]:
    """A plate whose next slot's renewal window is open today."""
    for plate in (f"NBC 1{week}{month}" for week in (1, 4, 7, 9) for month in range(10)):
        slot = schedule.next_slot_after(plate, today)
        if schedule.renewal_opens(slot) <= today:
            return plate, slot
    raise AssertionError("some slot is always within 60 days")


def test_an_open_window_offers_renew_with_the_vehicle_chosen(client, world):
    plate, slot = _open_today(timezone.localdate())
    vehicle = _due(world, plate, slot.last)
    client.force_login(vehicle.owner)

    page = client.get("/").content.decode()

    assert f"Renewal open</strong>: due {slot.first.day}\N{EN DASH}{slot.last:%-d %b %Y}" in page
    assert f"?vehicle={vehicle.pk}&amp;type=renewal" in page
    form = client.get("/applications/new/", {"vehicle": vehicle.pk, "type": "renewal"})
    assert f'<option value="{vehicle.pk}" selected>' in form.content.decode()
    assert '<option value="renewal" selected>' in form.content.decode()


def test_a_registration_past_its_slot_shows_renewal_late(client, world):
    today = timezone.localdate()
    vehicle = _due(world, "TGP 4567", dt.date(today.year - 1, 7, 14))
    client.force_login(vehicle.owner)

    page = client.get("/").content.decode()

    assert f"Renewal late</strong>: it was due by 14 Jul {today.year - 1}" in page
    assert "Renew now" in page
