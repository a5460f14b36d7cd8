"""The demo that `make run` loads: every role can sign in, and its ledger verifies."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from demo.management.commands.load_demo import DEMO_PASSWORD, PEOPLE
from organisations.models import Organisation
from payments.models import OfficialReceipt
from registry import origins, sales
from registry import services as registry_services
from registry.models import (
    Certificate,
    Deregistration,
    Mortgage,
    OriginRecord,
    RegistrationApplication,
    Sale,
    Vehicle,
)
from tests.conftest import delete_world, rows_for_the_module

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


@pytest.fixture(scope="module")
def demo_documents(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Path]:
    """Where the module's demo keeps its papers: `demo` loads it once for the module's tests."""
    root = tmp_path_factory.mktemp("demo-documents")
    storages = {
        **settings.STORAGES,
        "documents:filesystem": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    with override_settings(STORAGES=storages):
        yield root


@pytest.fixture(scope="module")
def demo_output(demo_documents, django_db_blocker) -> Iterator[str]:
    """What `load_demo` printed, loading the demo as `make run` does into a new database,
    where no world is; once for the module, each test's changes rolled back to it."""
    out = StringIO()
    with rows_for_the_module(django_db_blocker):
        with django_db_blocker.unblock():
            delete_world()
            call_command("load_demo", stdout=out)
        yield out.getvalue()


@pytest.fixture
def document_root(demo_documents) -> Path:
    """The demo's papers (instead of a folder of the test's own, tests/conftest.py)."""
    return demo_documents


def test_the_demo_loads_applications_in_several_states_and_its_ledger_verifies(demo_output, client):
    statuses = set(RegistrationApplication.objects.values_list("status", flat=True))
    assert statuses == {"approved", "awaiting_clearances", "submitted", "returned", "draft"}
    for username, *_ in PEOPLE:
        assert username in demo_output
        assert client.login(username=username, password=DEMO_PASSWORD), username
        assert client.get("/", follow=True).status_code == 200
    verified = StringIO()
    call_command("verify_ledger", stdout=verified)
    assert verified.getvalue().startswith("OK: ")

    call_command("load_demo", stdout=StringIO())
    # Maria's mu-X (encumbered) is the twelfth.
    assert RegistrationApplication.objects.count() == 12


def test_the_demo_has_a_deregistered_vehicle_its_owner_sees():

    deregistration = Deregistration.objects.select_related("vehicle__owner").get()

    assert deregistration.reason == "scrapped" and not deregistration.vehicle.is_active
    assert deregistration.vehicle.owner.username == "owner.maria"
    assert deregistration.vehicle.certificates.get().status == "revoked"
    assert deregistration.evidence.doc_type == "deregistration_evidence"


def test_the_demo_has_an_encumbered_vehicle_and_its_lenders_login(client):

    mortgage = Mortgage.objects.get(status="annotated")
    assert mortgage.lender.code == "banco-mabuhay" and mortgage.vehicle.model == "mu-X"
    assert Organisation.objects.filter(kind="LENDER").count() == 2
    assert client.login(username="lender.officer", password=DEMO_PASSWORD)
    assert mortgage.reference in client.get("/", follow=True).content.decode()


def test_the_demo_has_a_sale_awaiting_its_buyer_and_a_completed_transfer(demo_output):

    waiting = Sale.objects.get(status=Sale.Status.AWAITING_BUYER, origin__isnull=True)
    assert waiting.buyer_email == "owner.pedro@example.ph"
    pedro = get_user_model().objects.get(username="owner.pedro")
    # The printed links work (the Vios's, and the dealer's open invitation's).
    answered = {
        sales.sale_for_buyer(user=pedro, token=token)
        for token in re.findall(r"/sales/answer/([^/\s]+)/", demo_output)
    }
    assert answered == set(Sale.objects.filter(status=Sale.Status.AWAITING_BUYER))
    done = Sale.objects.get(status=Sale.Status.COMPLETED, origin__isnull=True)
    superseded = Certificate.objects.get(vehicle=done.vehicle, status="superseded")
    valid = Certificate.objects.get(vehicle=done.vehicle, status="valid")
    assert superseded.owner == done.seller and valid.owner == done.buyer
    assert superseded.superseded_by == valid and done.vehicle.owner == done.buyer


def test_the_demo_has_a_registration_whose_renewal_is_open_today():
    pedro = get_user_model().objects.get(username="owner.pedro")
    avanza = Vehicle.objects.get(owner=pedro, model="Avanza")
    period = avanza.registration_periods.get()
    today = timezone.localdate()
    assert period.valid_from < today - datetime.timedelta(days=365 * 2) < period.valid_to

    renewal = registry_services.application_create(
        applicant=pedro, vehicle_id=avanza.pk, type="renewal"
    )

    assert not renewal.filed_late and renewal.period_start > today


def test_the_demo_has_a_dealer_recorded_vehicle_registered_and_an_open_dealer_invitation(
    demo_output, client
):

    raize = OriginRecord.objects.get(vin="MHKA4DE30RJ012345")
    assert raize.dealer.code == "manila-bay-motors" and raize.vehicle is not None
    assert raize.vehicle.plate_number and raize.vehicle.owner.username == "owner.maria"
    assert origins.origin_status(raize) == "registered"
    ertiga = OriginRecord.objects.get(vin="MHKB3BA1JRK054321")
    assert origins.origin_status(ertiga) == "invitation sent"
    assert "dealer.officer" in demo_output
    assert client.login(username="dealer.officer", password=DEMO_PASSWORD)
    page = client.get("/", follow=True).content.decode()
    assert "Manila Bay Motors: origin records" in page
    assert raize.vin in page and ertiga.vin in page


def test_the_demo_files_applications_at_offices_and_has_an_assessed_one(client):
    assert not RegistrationApplication.objects.filter(office__isnull=True).exists()
    accent = RegistrationApplication.objects.get(vehicle__model="Accent")
    assert accent.office.code == "R07-CEB-DO"
    assessed = accent.assessments.get()
    # By hand from the seeded schedule: MVUC ₱1,600 (car up to 1,600 kg) + registration
    # ₱1,000 + computer ₱154 + sticker ₱50 + plate ₱450.
    assert assessed.total_centavos == 325400
    assert client.login(username="owner.maria", password=DEMO_PASSWORD)
    page = client.get(f"/applications/{accent.pk}/").content.decode()
    assert "₱3,254.00" in page and "(unconfirmed)" in page


def test_the_demo_has_a_paid_application_with_its_receipt_and_a_void_receipt(client):
    # Every approved application was paid first, so the office's series runs 1..n unbroken.
    numbers = list(OfficialReceipt.objects.order_by("number").values_list("number", flat=True))
    assert numbers == [f"NCR-MKT-DO-{serial:07d}" for serial in range(1, len(numbers) + 1)]
    void = OfficialReceipt.objects.get(number="NCR-MKT-DO-0000002")
    assert void.is_void and void.void_reason and void.application.vehicle.model == "Hilux"
    assert OfficialReceipt.objects.filter(voided_at__isnull=False).count() == 1
    paid = OfficialReceipt.objects.get(number="NCR-MKT-DO-0000003")
    assert paid.application.vehicle.model == "City"
    assert not paid.is_void and paid.payment.status == "paid"
    assert client.login(username="owner.maria", password=DEMO_PASSWORD)
    page = client.get(f"/applications/{paid.application_id}/").content.decode()
    assert paid.number in page
    assert client.get(f"/receipts/{paid.number}/pdf").status_code == 200


def test_the_demos_approved_applications_were_paid_and_the_accent_waits_for_its_payment(client):
    from payments.models import Payment

    approved = RegistrationApplication.objects.filter(status="approved")
    paid = set(Payment.objects.filter(status="paid").values_list("application_id", flat=True))
    assert approved.exists() and set(approved.values_list("pk", flat=True)) <= paid
    accent = RegistrationApplication.objects.get(vehicle__model="Accent")
    assert not Payment.objects.filter(application_id=accent.pk).exists()
    assert client.login(username="owner.maria", password=DEMO_PASSWORD)
    page = client.get(f"/applications/{accent.pk}/").content.decode()
    assert "Pay ₱3,254.00 online" in page
