"""factory_boy factories for the domain, and builders for findings that pass the rules."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from clearance.kinds.emission import EmissionReadings
from clearance.kinds.hpg import HpgFindings
from clearance.kinds.insurance import InsuranceCover
from organisations.models import Membership, Organisation
from registry.models import RegistrationApplication, Vehicle

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def random_vin() -> str:
    return "".join(random.choice(VIN_ALPHABET) for _ in range(17))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.ph")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.django.Password("pw-for-tests-only")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["code"]

    kind = "HPG"
    code = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda org: f"{org.kind} {org.code}")
    msp_id = "HPGMSP"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.OFFICER


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    owner = factory.SubFactory(UserFactory)
    vin = factory.LazyFunction(random_vin)
    engine_number = factory.Sequence(lambda n: f"ENG{n:08d}")
    chassis_number = factory.Sequence(lambda n: f"CHS{n:08d}")
    make = "Toyota"
    model = "Vios"
    year = 2025
    body_type = Vehicle.BodyType.SEDAN
    colour = "White"
    fuel = Vehicle.Fuel.GASOLINE


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegistrationApplication

    applicant = factory.SubFactory(UserFactory)
    vehicle = factory.SubFactory(VehicleFactory, owner=factory.SelfAttribute("..applicant"))
    type = RegistrationApplication.Type.NEW
    period_start = factory.LazyFunction(timezone.localdate)
    period_end = factory.LazyAttribute(lambda a: a.period_start + dt.timedelta(days=365 * 3 - 1))


def hpg_findings(vehicle: Vehicle, **overrides: object) -> HpgFindings:
    values = {
        "engine_number_checked": vehicle.engine_number,
        "chassis_number_checked": vehicle.chassis_number,
        "macro_etching_result": "match",
        "stolen_vehicle_check": "clear",
        "certificate_number": "HPG-0001",
    }
    return HpgFindings(**{**values, **overrides})


def insurance_cover(application: RegistrationApplication, **overrides: object) -> InsuranceCover:
    values = {
        "insurer": "Bayanihan Mutual Insurance",
        "coc_number": "COC-0001",
        "coverage_start": application.period_start,
        "coverage_end": application.period_end,
    }
    return InsuranceCover(**{**values, **overrides})


def emission_readings(**overrides: object) -> EmissionReadings:
    values = {
        "testing_centre": "Maharlika ETC",
        "certificate_number": "ETC-0001",
        "test_date": timezone.localdate(),
        "fuel": "gasoline",
        "co_percent": Decimal("1.20"),
        "hc_ppm": 150,
        "opacity_percent": None,
    }
    return EmissionReadings(**{**values, **overrides})
