"""Shared fixtures: the organisations and people of a small LTO office, and workflow steps."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.models import ClearanceRequest
from organisations.models import Membership, Organisation
from registry import services as registry_services
from registry.models import RegistrationApplication
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    VehicleFactory,
    emission_readings,
    hpg_findings,
    insurance_cover,
)

# Deliberately weak hashing: tests create many users and never face an attacker.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def document_root(settings, tmp_path):
    """Uploaded files go to a folder of the test's own, never into var/."""
    root = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents:filesystem": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


@dataclass
class World:
    lto: Organisation
    hpg: Organisation
    insurer: Organisation
    emission: Organisation
    lto_admin: AbstractBaseUser
    hpg_officer: AbstractBaseUser
    hpg_officer_2: AbstractBaseUser
    hpg_admin: AbstractBaseUser
    insurer_officer: AbstractBaseUser
    emission_officer: AbstractBaseUser
    owner: AbstractBaseUser
    other_owner: AbstractBaseUser

    def officer_for(self, kind: str) -> AbstractBaseUser:
        return {
            "HPG": self.hpg_officer,
            "INSURANCE": self.insurer_officer,
            "EMISSION": self.emission_officer,
        }[kind]


def seed_reference_data() -> None:
    """The rows the data migrations seed; transactional tests flush them away."""
    from django.apps import apps as django_apps

    seeds = importlib.import_module("clearance.migrations.0002_default_requirements")
    seeds.seed(django_apps, None)


def build_world() -> World:
    seed_reference_data()
    lto = OrganisationFactory(kind="LTO", code="lto", name="LTO", msp_id="LTOMSP")
    hpg = OrganisationFactory(kind="HPG", code="hpg", name="PNP-HPG", msp_id="HPGMSP")
    insurer = OrganisationFactory(
        kind="INSURANCE", code="insurer", name="Bayanihan Mutual", msp_id="InsuranceMSP"
    )
    emission = OrganisationFactory(
        kind="EMISSION", code="etc", name="Maharlika ETC", msp_id="EmissionMSP"
    )

    def member(username: str, organisation: Organisation, role: str = "officer"):
        user = UserFactory(username=username)
        MembershipFactory(user=user, organisation=organisation, role=role)
        return user

    return World(
        lto=lto,
        hpg=hpg,
        insurer=insurer,
        emission=emission,
        lto_admin=member("lto.admin", lto, Membership.Role.ADMIN),
        hpg_officer=member("hpg.officer", hpg),
        hpg_officer_2=member("hpg.officer2", hpg),
        hpg_admin=member("hpg.admin", hpg, Membership.Role.ADMIN),
        insurer_officer=member("insurer.officer", insurer),
        emission_officer=member("emission.officer", emission),
        owner=UserFactory(username="owner.juan"),
        other_owner=UserFactory(username="owner.maria"),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


def filed_application(
    world: World, *, owner: AbstractBaseUser | None = None, type: str = "new"
) -> RegistrationApplication:
    """A submitted application for a new vehicle of the owner's."""
    owner = owner or world.owner
    vehicle = VehicleFactory(owner=owner)
    application = registry_services.application_create(
        applicant=owner, vehicle_id=vehicle.pk, type=type
    )
    registry_services.application_submit(application_id=application.pk, actor=owner)
    application.refresh_from_db()
    return application


def sent_for_clearance(
    world: World, application: RegistrationApplication | None = None
) -> tuple[RegistrationApplication, dict[str, ClearanceRequest]]:
    """An application the LTO has reviewed and sent to every organisation it needs."""
    application = application or filed_application(world)
    registry_services.application_start_review(application_id=application.pk, actor=world.lto_admin)
    requests = clearance_services.clearance_send_for_clearance(
        application_id=application.pk, actor=world.lto_admin
    )
    application.refresh_from_db()
    return application, {request.kind: request for request in requests}


def findings_for(request: ClearanceRequest):
    application = request.application
    return {
        "HPG": lambda: hpg_findings(application.vehicle),
        "INSURANCE": lambda: insurance_cover(application),
        "EMISSION": lambda: emission_readings(fuel=application.vehicle.fuel),
    }[request.kind]()


def claim_and_approve(world: World, request: ClearanceRequest):
    officer = world.officer_for(request.kind)
    clearance_services.clearance_claim(request_id=request.pk, officer=officer)
    return clearance_services.clearance_decide(
        request_id=request.pk,
        officer=officer,
        decision=ClearanceStatus.APPROVED,
        remarks="Checked.",
        findings=findings_for(request),
    )
