"""Shared fixtures: the organisations and people of a small LTO office, and workflow steps."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from api.throttling import request_counts_forget
from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.models import ClearanceRequest
from organisations.models import Membership, Organisation
from registry import services as registry_services
from registry.document_services import document_checklist, document_upload, missing_documents
from registry.models import DocumentRequirement, RegistrationApplication
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    VehicleFactory,
    emission_readings,
    hpg_findings,
    insurance_cover,
)
from tests.paying import pay_in_full

# The smallest file a document type accepts as a PDF (its bytes are what is checked).
STAND_IN_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

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


# One throwaway credential signing key for the whole run (DEBUG is off in tests, so there is
# no generated development key); tests that start a server pass it in its environment.
CREDENTIAL_SIGNING_KEY_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)


@pytest.fixture(autouse=True)
def credential_signing_key(settings):
    settings.CREDENTIAL_SIGNING_KEY = CREDENTIAL_SIGNING_KEY_PEM
    return CREDENTIAL_SIGNING_KEY_PEM


@dataclass
class World:
    """The organisations and people most tests act as; see `world` for how they are shared."""

    lto: Organisation
    hpg: Organisation
    insurer: Organisation
    emission: Organisation
    lto_admin: AbstractBaseUser
    # Two more LTO officers, so that a step can need someone other than its maker; they act
    # as LTO staff only in tests that ask for `four_eyes`.
    lto_reviewer: AbstractBaseUser
    lto_approver: AbstractBaseUser
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


# World field: (kind, code, name, MSP id).
WORLD_ORGANISATIONS = {
    "lto": ("LTO", "lto", "LTO", "LTOMSP"),
    "hpg": ("HPG", "hpg", "PNP-HPG", "HPGMSP"),
    "insurer": ("INSURANCE", "insurer", "Bayanihan Mutual", "InsuranceMSP"),
    "emission": ("EMISSION", "etc", "Maharlika ETC", "EmissionMSP"),
}
# World field: (username, World field of their organisation or None for an owner, role).
WORLD_PEOPLE = {
    "lto_admin": ("lto.admin", "lto", Membership.Role.ADMIN),
    "hpg_officer": ("hpg.officer", "hpg", Membership.Role.OFFICER),
    "hpg_officer_2": ("hpg.officer2", "hpg", Membership.Role.OFFICER),
    "hpg_admin": ("hpg.admin", "hpg", Membership.Role.ADMIN),
    "insurer_officer": ("insurer.officer", "insurer", Membership.Role.OFFICER),
    "emission_officer": ("emission.officer", "emission", Membership.Role.OFFICER),
    "owner": ("owner.juan", None, None),
    "other_owner": ("owner.maria", None, None),
    "lto_reviewer": ("lto.reviewer", "lto", Membership.Role.OFFICER),
    "lto_approver": ("lto.approver", "lto", Membership.Role.OFFICER),
}
# Their LTO memberships are inactive until a test asks for `four_eyes`: every active LTO member
# is LTO staff and gets the LTO's notifications, which today's tests expect lto.admin alone to.
OFF_DUTY = ("lto_reviewer", "lto_approver")


def seed_reference_data() -> None:
    """The rows the data migrations seed; transactional tests flush them away."""
    from django.apps import apps as django_apps

    # The embedded ledger's head row (ledger 0002): its health and verification read it.
    importlib.import_module("ledger.migrations.0002_ledger_head").create_head(django_apps, None)
    seeds = importlib.import_module("clearance.migrations.0002_default_requirements")
    seeds.seed(django_apps, None)
    importlib.import_module("clearance.migrations.0010_lender_consent_for_transfers").seed(
        django_apps, None
    )
    # The papers a transfer needs (who files which), seeded by registry's 0009, and those of
    # a new registration and a renewal, with each one's description, by its 0015.
    transfers = importlib.import_module("registry.migrations.0009_transfers_start_with_a_sale")
    requirement = django_apps.get_model("registry", "DocumentRequirement")
    for doc_type, by_seller in transfers.TRANSFER_NEEDS:
        requirement.objects.get_or_create(
            application_type="transfer",
            doc_type=doc_type,
            defaults={"filed_by": "seller" if by_seller else "applicant"},
        )
    importlib.import_module("registry.migrations.0016_required_documents").seed(django_apps, None)
    # The demo offices and a plate series for each of their regions (organisations 0005,
    # registry 0023): an approval issues the next plate of its office's region, and official
    # receipts are numbered per office.
    importlib.import_module("organisations.migrations.0005_offices").seed_offices(django_apps, None)
    importlib.import_module("registry.migrations.0023_plate_series").seed(django_apps, None)
    # The fee schedule payments' 0001 seeds (approvals wait for the fees it assesses).
    if not django_apps.get_model("payments", "FeeSchedule").objects.exists():
        importlib.import_module("payments.migrations.0001_fees").seed_schedule(django_apps, None)


def build_world() -> World:
    """Create the world's rows, and the reference data, where they are missing.

    Safe to call on a database that has them already (every step is a get-or-create), so a
    test or a benchmark may call it whether or not the session's world is there.
    """
    seed_reference_data()
    organisations = {
        field: OrganisationFactory(kind=kind, code=code, name=name, msp_id=msp_id)
        for field, (kind, code, name, msp_id) in WORLD_ORGANISATIONS.items()
    }
    people = {}
    for field, (username, organisation, role) in WORLD_PEOPLE.items():
        people[field] = UserFactory(username=username)
        if organisation is not None:
            Membership.objects.get_or_create(
                user=people[field],
                organisation=organisations[organisation],
                defaults={"role": role, "is_active": field not in OFF_DUTY},
            )
    return World(**organisations, **people)


def world_from_database() -> World | None:
    """The world read back as Python objects no other test holds; None where rows are missing.

    A transactional test's flush removes them all; migrating the apps back to zero, some.
    """
    codes = {field: code for field, (_, code, _, _) in WORLD_ORGANISATIONS.items()}
    usernames = {field: username for field, (username, _, _) in WORLD_PEOPLE.items()}
    organisations = Organisation.objects.in_bulk(codes.values(), field_name="code")
    users = get_user_model().objects.in_bulk(usernames.values(), field_name="username")
    if len(organisations) < len(codes) or len(users) < len(usernames):
        return None
    return World(
        **{field: organisations[code] for field, code in codes.items()},
        **{field: users[username] for field, username in usernames.items()},
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the world and the reference data committed once for the session.

    Each test's changes to them roll back with its transaction. Transactional tests flush
    them away instead; `world` builds them again for the tests that need them after that.
    """
    with django_db_blocker.unblock():
        build_world()


@contextmanager
def rows_for_the_module(django_db_blocker) -> Iterator[None]:
    """An open transaction around a module's tests, for rows they all read: make them inside
    ``django_db_blocker.unblock()`` in a module-scoped fixture, then yield within this block.

    Each test's own transaction is a savepoint inside it, so what a test changes still rolls
    back to the module's rows; the rows roll back when the module's tests are done. Only for
    modules without transactional tests, which would commit (and flush) through it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        # Marked as Django's TestCase marks its own blocks, so that the services' durable
        # blocks may run inside it as they do inside a test's transaction.
        outer._from_testcase = True
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(db) -> World:
    """Four organisations and their people, as fresh objects from the session's rows.

    pytest-django runs transactional tests after the others, so only they (and tests that
    come after them) find the rows flushed and pay for building them again: inside the
    test's transaction for an ordinary test, committed (and flushed after) for a
    transactional one.
    """
    world = world_from_database() or build_world()
    forget_request_counts(world)
    return world


@pytest.fixture
def four_eyes(world: World) -> World:
    """The world with its LTO reviewer and approver on duty beside lto_admin, until rollback.

    They are LTO staff then, so each also gets what the LTO's staff are told: a submitted
    application, a decision on a clearance, an application with every clearance approved, a
    document that failed its integrity check.
    """
    people = [getattr(world, field) for field in OFF_DUTY]
    Membership.objects.filter(user__in=people, organisation=world.lto).update(is_active=True)
    return world


def forget_request_counts(world: World) -> None:
    """Start the world's people with no API requests counted against their rate.

    The counts live in Redis (and in this process), which no rollback undoes, and the people
    keep their ids from test to test: one test's requests would throttle the next test's.
    """
    people = [value for value in vars(world).values() if not isinstance(value, Organisation)]
    request_counts_forget(scope="user", idents=[user.pk for user in people])


@pytest.fixture
def without_world(db) -> None:
    """The database as a fresh install has it: the session's world deleted, until rollback.

    For tests of what runs on a new database, such as the demo loader: it keeps the people it
    finds as they are, so the world's users would keep passwords the demo does not know.
    """
    delete_world()


def delete_world() -> None:
    """Delete the session's world (its people and organisations), as on a new install."""
    usernames = [username for username, _, _ in WORLD_PEOPLE.values()]
    get_user_model().objects.filter(username__in=usernames).delete()
    Organisation.objects.filter(
        code__in=[code for _, code, _, _ in WORLD_ORGANISATIONS.values()]
    ).delete()


@pytest.fixture
def eager_celery():
    """Run tasks in-process, as the embedded shape does, so their effects can be asserted."""
    from talaan.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def with_required_documents(application: RegistrationApplication) -> RegistrationApplication:
    """Upload a stand-in PDF for each document the application still needs, each by the
    person who files it (the applicant; the seller for a transfer's seller papers), so that
    it can be submitted."""
    for item in missing_documents(document_checklist(application)):
        seller = item.filed_by == DocumentRequirement.FiledBy.SELLER
        document_upload(
            application_id=application.pk,
            uploader=application.sale.seller if seller else application.applicant,
            doc_type=item.doc_type,
            upload=SimpleUploadedFile(f"{item.doc_type}.pdf", STAND_IN_PDF),
        )
    return application


def draft_application(
    world: World, *, owner: AbstractBaseUser | None = None
) -> RegistrationApplication:
    """A draft new registration for a new vehicle of the owner's, with no documents yet."""
    owner = owner or world.owner
    vehicle = VehicleFactory(owner=owner)
    return registry_services.application_create(applicant=owner, vehicle_id=vehicle.pk, type="new")


def filed_application(
    world: World, *, owner: AbstractBaseUser | None = None, type: str = "new"
) -> RegistrationApplication:
    """A submitted application, with its required documents, for a new vehicle of the
    owner's."""
    owner = owner or world.owner
    vehicle = VehicleFactory(owner=owner)
    application = registry_services.application_create(
        applicant=owner, vehicle_id=vehicle.pk, type=type
    )
    with_required_documents(application)
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


def registered_application(
    world: World, application: RegistrationApplication | None = None, *, plate: str = ""
) -> RegistrationApplication:
    """A filed application (a new one of the owner's by default) taken through every clearance
    and paid in full to the LTO's approval, with ``plate`` issued if given; refreshed."""
    application, requests = sent_for_clearance(world, application)
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    registry_services.registration_approve(
        application_id=application.pk, actor=world.lto_admin, plate_number=plate
    )
    application.refresh_from_db()
    return application


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
