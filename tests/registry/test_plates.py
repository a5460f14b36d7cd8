"""Plates are issued in sequence from the plate inventory (issue 16): never at random, never
twice, under concurrency, and a rollback loses none."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.urls import reverse

from kernel.errors import Conflict, describe
from ledger.exceptions import LedgerUnavailable
from registry import schedule
from registry import services as registry_services
from registry.models import PlateSeries, RegistrationApplication, Vehicle
from registry.services import canonical_plate
from tests.clearance.test_concurrency import race
from tests.conftest import (
    build_world,
    claim_and_approve,
    filed_application,
    registered_application,
    sent_for_clearance,
    with_required_documents,
)
from tests.factories import UserFactory, VehicleFactory
from tests.locking import waits_on_a_lock
from tests.paying import pay_in_full


def only_series(*ranges: tuple[str, int, int], vehicle_class: str = "car") -> list[PlateSeries]:
    """The NCR private series of the class replaced by these (letters, first, last), in order:
    the applications of the tests are filed at the default office, in NCR."""
    PlateSeries.objects.filter(region="NCR", vehicle_class=vehicle_class).update(is_active=False)
    return [
        PlateSeries.objects.create(
            region="NCR",
            vehicle_class=vehicle_class,
            classification="private",
            letters=letters,
            first_number=first,
            last_number=last,
            next_number=first,
        )
        for letters, first, last in ranges
    ]


def cleared(world, vehicle: Vehicle | None = None) -> RegistrationApplication:
    """An application every clearance approved and its owner paid, waiting for the LTO."""
    application = None
    if vehicle is not None:
        application = registry_services.application_create(
            applicant=world.owner, vehicle_id=vehicle.pk, type="new"
        )
        with_required_documents(application)
        registry_services.application_submit(application_id=application.pk, actor=world.owner)
    application, requests = sent_for_clearance(world, application or filed_application(world))
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    return application


def approve(world, application: RegistrationApplication, plate: str = "") -> str:
    registry_services.registration_approve(
        application_id=application.pk, actor=world.lto_admin, plate_number=plate
    )
    return Vehicle.objects.get(pk=application.vehicle_id).plate_number or ""


def test_three_approvals_get_the_series_next_three_plates_in_order(world):
    (series,) = only_series(("XYA", 41, 99))

    plates = [registered_application(world).vehicle.plate_number for _ in range(3)]

    assert plates == ["XYA 0041", "XYA 0042", "XYA 0043"]
    series.refresh_from_db()
    assert series.next_number == 44 and series.remaining == 56


def test_an_issued_plate_sets_the_renewal_schedule_from_its_last_digits(world):
    only_series(("XYA", 27, 99))

    application = registered_application(world)

    assert application.vehicle.plate_number == "XYA 0027"
    # Last digit 7: July; second-last 2: the first week. A first registration ends there.
    assert application.period_end == schedule.first_period_end("XYA 0027", application.period_start)
    assert (application.period_end.month, application.period_end.day) == (7, 7)


def test_a_plate_of_the_series_chosen_by_hand_is_skipped_and_noted(world):
    (series,) = only_series(("XYB", 1, 99))
    assert approve(world, cleared(world), plate="xyb0002") == "XYB 0002"

    issued = [approve(world, cleared(world)) for _ in range(2)]

    assert issued == ["XYB 0001", "XYB 0003"]
    series.refresh_from_db()
    assert series.next_number == 4 and series.skipped == "XYB 0002"


def test_a_used_up_series_gives_way_to_the_next_and_with_none_left_nothing_changes(world):
    first, second = only_series(("XYC", 9998, 9999), ("XYD", 5, 5))
    plates = [approve(world, cleared(world)) for _ in range(3)]
    assert plates == ["XYC 9998", "XYC 9999", "XYD 0005"]
    waiting = cleared(world)

    with pytest.raises(Conflict) as refused:
        approve(world, waiting)

    assert describe(refused.value).status == 409 and not describe(refused.value).retryable
    assert str(refused.value) == (
        "No plates left in the NCR private car series: the LTO adds a series in the admin."
    )
    waiting.refresh_from_db()
    assert waiting.status == "cleared"
    assert not waiting.vehicle.plate_number and not waiting.vehicle.mv_file_number
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.remaining, second.remaining) == (0, 0)


def test_a_refused_approval_leaves_the_series_as_it_was(world):
    # Both plates of the series are taken by hand: the approval passes over them, finds
    # none, and is refused; the rollback returns the series to where it stood.
    (series,) = only_series(("XYE", 1, 2))
    approve(world, cleared(world), plate="XYE 0001")
    approve(world, cleared(world), plate="XYE 0002")

    with pytest.raises(Conflict, match="No plates left in the NCR private car series"):
        approve(world, cleared(world))

    series.refresh_from_db()
    assert series.next_number == 1 and series.skipped == ""


def test_an_approval_the_ledger_refuses_takes_no_plate(world, monkeypatch):
    from ledger import adapter
    from tests.clearance.test_ledger_failures import FailingLedger

    (series,) = only_series(("XYF", 1, 99))
    application = cleared(world)
    # The ledger cannot fail on demand here: the failure is injected at the adapter.
    monkeypatch.setattr(adapter, "configured_ledger", lambda: FailingLedger(LedgerUnavailable()))
    with pytest.raises(LedgerUnavailable):
        approve(world, application)
    monkeypatch.undo()

    series.refresh_from_db()
    assert series.next_number == 1
    assert approve(world, application) == "XYF 0001"


def test_a_motorcycle_gets_a_motorcycle_plate(world):
    only_series(("XYA", 1, 99))
    only_series(("XYM", 7, 999), vehicle_class="motorcycle")
    motorcycle = VehicleFactory(owner=world.owner, body_type=Vehicle.BodyType.MOTORCYCLE)

    application = cleared(world, motorcycle)
    plate = approve(world, application)

    assert plate == "007 XYM"
    application.refresh_from_db()
    assert application.period_end == schedule.first_period_end(
        plate, application.period_start, motorcycle=True
    )
    assert approve(world, cleared(world)) == "XYA 0001"


def test_a_motorcycle_plate_typed_by_hand_is_stored_as_issued_plates_are():
    assert canonical_plate("123abc") == "123 ABC"
    assert canonical_plate(" 123  ABC ") == "123 ABC"
    assert canonical_plate("nbc1234") == "NBC 1234"


def test_the_approve_form_says_which_plate_comes_next_or_that_none_is_left(world, client):
    (series,) = only_series(("XYG", 12, 12))
    application = cleared(world)
    client.force_login(world.lto_admin)

    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Plate XYG 0012 will be issued" in page

    series.next_number = 13
    series.save()
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "No plates left in the NCR private car series" in page


def test_the_admin_lists_the_series_with_the_plates_left(world, client):
    only_series(("XYH", 1, 250))
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:registry_plateseries_changelist")).content.decode()

    assert "XYH 0001" in page and "XYH 0250" in page
    assert '<td class="field-remaining">250</td>' in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_approvals_at_the_same_moment_get_two_consecutive_plates():
    # Real PostgreSQL, two connections: the series row's lock makes the second wait.
    world = build_world()
    (series,) = only_series(("XYJ", 1, 99))
    applications = [cleared(world) for _ in range(2)]

    outcomes = race(
        *(
            lambda application=application: approve(world, application)
            for application in applications
        )
    )

    assert sorted(map(str, outcomes)) == ["XYJ 0001", "XYJ 0002"], outcomes
    series.refresh_from_db()
    assert series.next_number == 3


def test_approving_on_the_page_with_no_plate_left_answers_409_and_changes_nothing(world, client):
    only_series(("XYK", 1, 1))
    approve(world, cleared(world))
    waiting = cleared(world)
    client.force_login(world.lto_admin)

    response = client.post(reverse("registration-approve", args=[waiting.pk]), {"plate_number": ""})

    assert response.status_code == 409
    assert "No plates left in the NCR private car series" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "cleared" and not waiting.vehicle.plate_number


def test_the_lto_adds_a_series_in_the_admin_and_one_that_shares_plates_is_refused(world, client):
    only_series(("XYL", 1, 500))
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:registry_plateseries_add")
    form = {
        "region": "NCR",
        "vehicle_class": "car",
        "classification": "private",
        "letters": "XYL",
        "first_number": "501",
        "last_number": "9999",
        "next_number": "",
        "is_active": "on",
    }

    assert client.post(url, form).status_code == 302
    added = PlateSeries.objects.get(letters="XYL", first_number=501)
    assert added.next_number == 501 and added.remaining == 9499

    overlapping = client.post(url, {**form, "first_number": "400", "last_number": "600"})
    assert overlapping.status_code == 200
    assert "already holds some of these plates" in overlapping.content.decode()
    assert PlateSeries.objects.filter(letters="XYL").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_plate_typed_by_hand_that_another_session_issues_meanwhile_is_refused_plainly(world):
    """The approval's check finds the plate free; another session, not yet committed, gives it
    to another vehicle; the approval's write then meets the unique index. The LTO is told the
    plate is issued (a 422 on the page), not shown a server error, and nothing changes."""
    waiting = cleared(world)
    other_vehicle = VehicleFactory(owner=world.other_owner)
    rival = connections.create_connection("default")
    rival.set_autocommit(False)
    outcome: dict = {}

    def approve_by_hand() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            approve(world, waiting, plate="TGP 4567")
        except Exception as exc:  # the outcome under test, whatever it is
            outcome["error"] = exc
        finally:
            connection.close()

    try:
        with rival.cursor() as cursor:
            cursor.execute(
                "UPDATE registry_vehicle SET plate_number = 'TGP 4567' WHERE id = %s",
                [other_vehicle.pk],
            )
        thread = threading.Thread(target=approve_by_hand)
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            "pid" in outcome and waits_on_a_lock(outcome["pid"])
        ):
            time.sleep(0.05)
        assert waits_on_a_lock(outcome.get("pid")), outcome  # the race happened
        rival.commit()
        thread.join(timeout=60)
    finally:
        rival.close()

    error = outcome.get("error")
    assert isinstance(error, ValidationError), error
    assert "Plate TGP 4567 is already issued." in str(error)
    waiting.refresh_from_db()
    assert waiting.status == "cleared"
    assert Vehicle.objects.get(pk=waiting.vehicle_id).plate_number in (None, "")
