"""Registering vehicles: bad input gets a clear message and changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kernel.errors import describe
from registry import services as registry_services
from registry.models import Vehicle
from tests.factories import UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

GOOD = dict(
    vin="jtdbr32e720012345",
    engine_number="2nz 1234567",
    chassis_number="ncp92-0012345",
    make="Toyota",
    model="Vios",
    year=2025,
    body_type="sedan",
    colour="White",
    fuel="gasoline",
)


def register(**overrides):
    owner = overrides.pop("owner", None) or UserFactory()
    return registry_services.vehicle_register(owner=owner, **{**GOOD, **overrides})


def test_a_vehicle_is_registered_with_numbers_normalised():
    vehicle = register()
    assert (vehicle.vin, vehicle.engine_number, vehicle.chassis_number) == (
        "JTDBR32E720012345",
        "2NZ1234567",
        "NCP92-0012345",
    )


@pytest.mark.parametrize(
    "vin",
    [
        "JTDBR32E72001234",
        "JTDBR32E7200123456",
        "JTDBR32E72001234O",
        "ITDBR32E720012345",
        "JTDBR32E72001234Q",
        "JTDBR32E7200-2345",
    ],
)
def test_an_invalid_vin_is_refused_with_the_iso_rule(vin):
    with pytest.raises(ValidationError) as refused:
        register(vin=vin)
    assert (
        "A VIN has exactly 17 letters and digits (ISO 3779) and never uses I, O or Q."
        in refused.value.message_dict["vin"]
    )
    assert describe(refused.value).status == 422
    assert not Vehicle.objects.exists()


def test_a_duplicate_engine_number_among_active_vehicles_is_refused():
    VehicleFactory(engine_number="2NZ1234567")
    with pytest.raises(ValidationError) as refused:
        register(engine_number="2nz1234567")
    assert refused.value.message_dict["__all__"] == [
        "Another active vehicle already has this engine number."
    ]
    assert Vehicle.objects.count() == 1


def test_a_retired_vehicle_s_numbers_never_become_free_again():
    # Issue 14: a deactivated vehicle used to free its VIN for anyone to take.
    VehicleFactory(
        engine_number="2NZ1234567",
        chassis_number="NCP92-0012345",
        vin="JTDBR32E720012345",
        is_active=False,
    )
    with pytest.raises(ValidationError) as refused:
        register()
    assert set(refused.value.message_dict) == {"vin", "engine_number", "chassis_number"}
    assert "already known to the LTO" in refused.value.message_dict["vin"][0]
    assert Vehicle.objects.count() == 1


def test_a_duplicate_chassis_number_is_refused():
    VehicleFactory(chassis_number="NCP92-0012345")
    with pytest.raises(ValidationError):
        register()
    assert Vehicle.objects.count() == 1


@pytest.mark.parametrize("year", [1899, 2101])
def test_an_impossible_year_is_refused(year):
    with pytest.raises(ValidationError) as refused:
        register(year=year)
    assert "year" in refused.value.message_dict


def test_an_application_only_for_your_own_vehicle_and_one_at_a_time(world):
    vehicle = VehicleFactory(owner=world.owner)
    with pytest.raises(ValidationError):
        registry_services.application_create(
            applicant=world.other_owner, vehicle_id=vehicle.pk, type="new"
        )
    registry_services.application_create(applicant=world.owner, vehicle_id=vehicle.pk, type="new")
    from kernel.errors import Conflict

    with pytest.raises(Conflict, match="already has an application in progress"):
        registry_services.application_create(
            applicant=world.owner, vehicle_id=vehicle.pk, type="renewal"
        )
