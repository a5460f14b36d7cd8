"""What an approval leaves behind: a Certificate of Registration (CR), the registration period
and the ownership period; and what the public verify page says about each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from registry import services as registry_services
from registry.models import Certificate, OwnershipPeriod, RegistrationPeriod
from registry.records import records_grant
from tests.conftest import (
    filed_application,
    registered_application,
    with_required_documents,
)
from tests.factories import ApplicationFactory


def test_a_first_registration_issues_a_valid_cr_and_opens_the_owner_s_periods(world):
    application = registered_application(world, filed_application(world))

    certificate = Certificate.objects.get(vehicle=application.vehicle)
    assert certificate.status == Certificate.Status.VALID
    assert certificate.owner == world.owner and certificate.application == application
    assert certificate.number.startswith("CR-") and len(certificate.number) == 13
    [ownership] = OwnershipPeriod.objects.filter(vehicle=application.vehicle)
    assert ownership.owner == world.owner and ownership.ended_on is None
    assert ownership.acquired == OwnershipPeriod.Acquired.FIRST_REGISTRATION
    period = RegistrationPeriod.objects.get(application=application)
    assert (period.valid_from, period.valid_to) == (
        application.period_start,
        application.period_end,
    )


def test_a_renewal_grants_a_new_period_and_keeps_the_owner_s_cr(world):
    first = registered_application(world, filed_application(world))
    cr = Certificate.objects.get(vehicle=first.vehicle)
    renewal = registry_services.application_create(
        applicant=world.owner,
        vehicle_id=first.vehicle_id,
        type="renewal",
        today=first.period_end - dt.timedelta(days=10),  # in the plate's renewal window
    )
    with_required_documents(renewal)
    registry_services.application_submit(application_id=renewal.pk, actor=world.owner)

    registered_application(world, renewal)

    assert list(Certificate.objects.filter(vehicle=first.vehicle)) == [cr]
    cr.refresh_from_db()
    assert cr.status == Certificate.Status.VALID
    assert RegistrationPeriod.objects.filter(vehicle=first.vehicle).count() == 2
    assert OwnershipPeriod.objects.filter(vehicle=first.vehicle).count() == 1


def test_a_new_owner_s_approval_supersedes_the_seller_s_cr_and_moves_the_ownership(world):
    first = registered_application(world, filed_application(world))
    seller_cr = Certificate.objects.get(vehicle=first.vehicle)
    vehicle = first.vehicle
    transfer = ApplicationFactory(
        applicant=world.other_owner,
        vehicle=vehicle,
        type="transfer",
        status="approved",
        period_start=timezone.localdate(),
        period_end=timezone.localdate() + dt.timedelta(days=364),
    )

    with transaction.atomic():
        granted = records_grant(application=transfer)

    seller_cr.refresh_from_db()
    vehicle.refresh_from_db()
    assert seller_cr.status == Certificate.Status.SUPERSEDED
    assert seller_cr.superseded_by == granted.certificate and seller_cr.ended_at is not None
    assert granted.certificate.owner == world.other_owner
    assert granted.certificate.status == Certificate.Status.VALID
    assert vehicle.owner == world.other_owner
    periods = list(OwnershipPeriod.objects.filter(vehicle=vehicle).order_by("id"))
    assert [(p.owner, p.ended_on is None, p.acquired) for p in periods] == [
        (world.owner, False, "first_registration"),
        (world.other_owner, True, "transfer"),
    ]


def test_the_database_refuses_a_second_valid_cr_for_one_vehicle(world):
    application = registered_application(world, filed_application(world))

    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(
            vehicle=application.vehicle,
            owner=world.owner,
            application=application,
            issued_at=timezone.now(),
        )


# The public verify page --------------------------------------------------------------------


def verify(client, query):
    response = client.get(reverse("verify-search"), {"q": query})
    return response.status_code, response.content.decode()


def test_verify_by_cr_number_or_plate_says_registered_with_the_period(world, client):
    application = registered_application(world, filed_application(world))
    cr = Certificate.objects.get(vehicle=application.vehicle)
    plate = application.vehicle.plate_number

    for query in (cr.number, plate, plate.lower(), application.reference):
        status, page = verify(client, query)
        assert status == 200, query
        assert f"Registered: certificate {cr.number} is valid" in page, query
        assert f"runs until {application.period_end:%d %b %Y}" in page, query
    assert world.owner.get_full_name() not in page and application.vehicle.vin not in page


def test_verify_says_an_unapproved_application_is_not_registered(world, client):
    application = filed_application(world)

    status, page = verify(client, application.reference)

    assert status == 200
    assert f"Not registered: application {application.reference} is submitted" in page
    assert "✔" not in page


def test_verify_says_a_superseded_cr_was_replaced(world, client):
    first = registered_application(world, filed_application(world))
    seller_cr = Certificate.objects.get(vehicle=first.vehicle)
    transfer = ApplicationFactory(
        applicant=world.other_owner,
        vehicle=first.vehicle,
        type="transfer",
        status="approved",
        period_start=timezone.localdate(),
        period_end=timezone.localdate() + dt.timedelta(days=364),
    )
    records_grant(application=transfer)

    status, page = verify(client, seller_cr.number)

    assert status == 200
    assert f"Certificate {seller_cr.number} was replaced on" in page
    assert "by a newer certificate" in page and "Registered:" not in page


def test_verify_says_an_expired_registration_has_expired(world, client):
    application = registered_application(world, filed_application(world))
    RegistrationPeriod.objects.filter(application=application).update(
        valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2022, 12, 31)
    )

    status, page = verify(client, application.vehicle.plate_number)

    assert status == 200
    assert "The registration expired on 31 Dec 2022" in page and "Registered:" not in page


def test_verify_says_a_revoked_cr_was_revoked_and_why(world, client):
    application = registered_application(world, filed_application(world))
    cr = Certificate.objects.get(vehicle=application.vehicle)
    Certificate.objects.filter(pk=cr.pk).update(
        status=Certificate.Status.REVOKED,
        ended_at=timezone.now(),
        revoked_reason="Issued on a forged deed of sale.",
    )

    status, page = verify(client, cr.number)

    assert status == 200
    assert f"Certificate {cr.number} was revoked on" in page
    assert "Issued on a forged deed of sale." in page


def test_verify_of_something_unknown_is_404_and_an_empty_box_is_the_form(client, db):
    status, page = verify(client, "CR-0000000000")
    empty = client.get(reverse("verify-search"))

    assert status == 404 and "Nothing in the registry has" in page
    assert empty.status_code == 200 and 'name="q"' in empty.content.decode()
