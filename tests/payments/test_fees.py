"""Fee assessments against worked examples from the research notes of issue 16 (the seeded
schedule). Each expected total is added up here by hand from the notes' peso figures:
MVUC (Moneymax table): car ≤1,600 kg ₱1,600, 1,601-2,300 kg ₱3,600; UV ≤2,700 kg ₱2,000,
2,701-4,500 kg ₱2,000 + ₱0.40/kg over 2,700; SUV ≤2,700 kg ₱2,300, above ₱2,300 + ₱0.46/kg
over 2,700; motorcycle ₱240. Registration fee ₱1,000 new / ₱400 renewal (unconfirmed);
computer fee ₱140 + 10% VAT = ₱154 (unconfirmed); sticker ₱50; plate ₱450 (not motorcycles);
transfer fee ₱200 (unconfirmed); late renewal 50% of the MVUC + ₱200 (₱100 motorcycles)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from payments import assessment
from payments.models import FeeRate, FeeSchedule
from registry.models import RegistrationApplication, RegistrationPeriod, Vehicle
from registry.records import renewal_outlook
from tests.factories import ApplicationFactory, VehicleFactory

pytestmark = pytest.mark.django_db

REGISTRATION_NEW, REGISTRATION_RENEWAL, COMPUTER, STICKER, PLATE = 1000, 400, 154, 50, 450


def centavos(pesos: float) -> int:
    return round(pesos * 100)


def _application(type: str = "new", *, filed_late: bool = False, **vehicle: object):
    return ApplicationFactory(
        type=type,
        filed_late=filed_late,
        vehicle__gvw_kg=vehicle.pop("gvw_kg", None),
        **{f"vehicle__{k}": v for k, v in vehicle.items()},
    )


def _codes(a) -> dict[str, int]:
    return {item.code: item.amount_centavos for item in a.items.all()}


def test_a_light_car_new_registration():
    a = assessment.assess(_application(gvw_kg=1450, body_type=Vehicle.BodyType.SEDAN))
    assert a.total_centavos == centavos(1600 + REGISTRATION_NEW + COMPUTER + STICKER + PLATE)
    assert _codes(a)["mvuc"] == centavos(1600)


def test_a_2000_kg_car_renewal_filed_late_pays_half_the_mvuc_and_200():
    a = assessment.assess(
        _application("renewal", filed_late=True, gvw_kg=2000, body_type=Vehicle.BodyType.HATCHBACK)
    )
    late = 3600 * 0.5 + 200
    assert a.total_centavos == centavos(3600 + REGISTRATION_RENEWAL + COMPUTER + STICKER + late)
    assert _codes(a)["late_renewal_penalty"] == centavos(1800)
    assert _codes(a)["late_renewal_surcharge"] == centavos(200)


def test_an_suv_pays_its_per_kg_charge_and_a_1990_suv_pays_as_a_utility_vehicle():
    suv = assessment.assess(_application(gvw_kg=2950, body_type=Vehicle.BodyType.SUV, year=2015))
    assert _codes(suv)["mvuc"] == centavos(2300 + 0.46 * 250)  # ₱2,415
    assert suv.total_centavos == centavos(2415 + REGISTRATION_NEW + COMPUTER + STICKER + PLATE)
    old = assessment.assess(_application(gvw_kg=2500, body_type=Vehicle.BodyType.SUV, year=1990))
    assert _codes(old)["mvuc"] == centavos(2000)


def test_a_utility_vehicle_renewal_on_time():
    a = assessment.assess(_application("renewal", gvw_kg=3000, body_type=Vehicle.BodyType.PICKUP))
    assert a.total_centavos == centavos(
        2000 + 0.40 * 300 + REGISTRATION_RENEWAL + COMPUTER + STICKER
    )
    assert "late_renewal_penalty" not in _codes(a)


def test_a_motorcycle_new_registration_has_no_plate_fee_and_needs_no_weight():
    a = assessment.assess(_application(body_type=Vehicle.BodyType.MOTORCYCLE))
    assert a.total_centavos == centavos(240 + REGISTRATION_NEW + COMPUTER + STICKER)
    assert a.notes == ""


def test_a_transfer_pays_the_transfer_and_computer_fees_only():
    a = assessment.assess(_application("transfer", gvw_kg=1450))
    assert a.total_centavos == centavos(200 + COMPUTER)


def test_unconfirmed_figures_are_marked_so_and_confirmed_ones_cite_their_source():
    a = assessment.assess(_application(gvw_kg=1450))
    items = {item.code: item for item in a.items.all()}
    for code in ("registration_fee", "computer_fee"):
        assert items[code].confirmed is False
        assert "UNCONFIRMED" in items[code].source
    assert items["mvuc"].confirmed is True
    assert "moneymax.ph" in items["mvuc"].source
    assert a.has_unconfirmed


def test_a_car_without_gvw_is_charged_the_lowest_band_and_told_so():
    a = assessment.assess(_application(body_type=Vehicle.BodyType.SEDAN))
    assert _codes(a)["mvuc"] == centavos(1600)
    assert "GVW not recorded" in a.notes and "the LTO confirms at inspection" in a.notes


def test_a_schedule_change_leaves_an_existing_assessment_unchanged_until_it_expires():
    application = _application(gvw_kg=1450)
    first = assessment.assess(application)
    today = timezone.localdate()
    FeeSchedule.objects.update(effective_to=today - dt.timedelta(days=1))
    newer = FeeSchedule.objects.create(name="Raised", effective_from=today)
    FeeRate.objects.create(
        schedule=newer,
        code="mvuc",
        application_types=["new"],
        vehicle_class="private_car",
        amount_centavos=centavos(9999),
        source="test",
        confirmed=False,
    )
    again = assessment.assess(application)
    assert again.pk == first.pk
    assert again.total_centavos == first.total_centavos
    assert _codes(again)["mvuc"] == centavos(1600)

    later = assessment.assess(application, now=first.valid_until + dt.timedelta(seconds=1))
    assert later.pk != first.pk
    assert later.total_centavos == centavos(9999)
    assert application.assessments.count() == 2  # the older one is kept


def test_an_on_time_renewal_is_reassessed_with_the_penalty_once_its_due_date_passed():
    owner_vehicle = VehicleFactory(plate_number="ABC 1234", gvw_kg=1450)
    granted = ApplicationFactory(
        applicant=owner_vehicle.owner,
        vehicle=owner_vehicle,
        status="approved",
        period_start=dt.date(2025, 4, 1),
        period_end=dt.date(2026, 4, 30),
    )
    period = RegistrationPeriod.objects.create(
        vehicle=owner_vehicle,
        application=granted,
        valid_from=dt.date(2025, 4, 1),
        valid_to=dt.date(2026, 4, 30),
    )
    due = renewal_outlook(owner_vehicle, period).due.last
    renewal = ApplicationFactory(
        applicant=owner_vehicle.owner,
        vehicle=owner_vehicle,
        type=RegistrationApplication.Type.RENEWAL,
        period_start=due,
        period_end=due + dt.timedelta(days=365),
    )
    day_before = timezone.make_aware(dt.datetime.combine(due - dt.timedelta(days=1), dt.time(9)))
    on_time = assessment.assess(renewal, now=day_before)
    assert on_time.total_centavos == centavos(1600 + REGISTRATION_RENEWAL + COMPUTER + STICKER)
    assert timezone.localdate(on_time.valid_until) == due  # not the full week: the due date

    after = day_before + dt.timedelta(days=3)
    late = assessment.assess(renewal, now=after)
    assert late.pk != on_time.pk
    assert late.total_centavos == centavos(
        1600 + REGISTRATION_RENEWAL + COMPUTER + STICKER + 1600 * 0.5 + 200
    )


def test_the_admin_lists_the_seeded_rates_with_unconfirmed_ones_marked(client, django_user_model):
    admin = django_user_model.objects.create_superuser("fees.admin", "a@example.ph", "pw-1234567")
    client.force_login(admin)
    page = client.get("/admin/payments/feerate/?confirmed__exact=0").content.decode()
    assert "UNCONFIRMED: not official" in page
    schedule = FeeSchedule.objects.get()
    assert client.get(f"/admin/payments/feeschedule/{schedule.pk}/change/").status_code == 200
    assert client.get("/admin/organisations/office/").status_code == 200


def test_a_for_hire_vehicle_is_told_its_own_rates_were_not_found():
    a = assessment.assess(_application(gvw_kg=1450, classification="for_hire"))
    assert "For-hire rates were not found" in a.notes
