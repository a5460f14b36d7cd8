"""Bad findings are refused with a message naming the field, and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.models import EmissionClearanceDetail, EmissionLimit
from ledger.models import LedgerEntry
from tests.conftest import sent_for_clearance
from tests.factories import emission_readings, hpg_findings, insurance_cover


@pytest.fixture
def claimed(world):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        clearance_services.clearance_claim(
            request_id=request.pk, officer=world.officer_for(request.kind)
        )
    return application, requests


def approve(world, request, findings):
    return clearance_services.clearance_decide(
        request_id=request.pk,
        officer=world.officer_for(request.kind),
        decision=ClearanceStatus.APPROVED,
        remarks="",
        findings=findings,
    )


def refused(world, request, findings) -> dict[str, list[str]]:
    entries = LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        approve(world, request, findings)
    request.refresh_from_db()
    assert request.status == ClearanceStatus.IN_REVIEW
    assert LedgerEntry.objects.count() == entries
    return error.value.message_dict


@pytest.mark.parametrize(
    "reading,value,message",
    [
        ("co_percent", Decimal("-0.5"), "CO must be between 0 and 100 %."),
        ("co_percent", Decimal("100.5"), "CO must be between 0 and 100 %."),
        ("hc_ppm", -1, "HC must be between 0 and 100,000 ppm."),
        ("opacity_percent", Decimal("120"), "Smoke opacity must be between 0 and 100 %."),
    ],
)
def test_impossible_emission_readings_are_refused(world, claimed, reading, value, message):
    _, requests = claimed
    errors = refused(world, requests["EMISSION"], emission_readings(**{reading: value}))
    assert errors[reading] == [message]
    assert not EmissionClearanceDetail.objects.exists()


def test_impossible_readings_are_refused_even_when_rejecting(world, claimed):
    _, requests = claimed
    with pytest.raises(ValidationError):
        clearance_services.clearance_decide(
            request_id=requests["EMISSION"].pk,
            officer=world.emission_officer,
            decision=ClearanceStatus.REJECTED,
            remarks="Failed.",
            findings=emission_readings(co_percent=Decimal("-3")),
        )


@pytest.mark.parametrize(
    "reading,value,named",
    [
        ("co_percent", Decimal("4.60"), "CO 4.60% exceeds the limit of 4.50%."),
        ("hc_ppm", 601, "HC 601 ppm exceeds the limit of 600 ppm."),
        ("opacity_percent", Decimal("50.5"), "Smoke opacity 50.5% exceeds the limit of 50.00%."),
    ],
)
def test_approving_readings_over_the_limits_names_the_failing_reading(
    world, claimed, reading, value, named
):
    _, requests = claimed
    errors = refused(world, requests["EMISSION"], emission_readings(**{reading: value}))
    assert errors == {reading: [named]}


def test_readings_over_the_limits_can_still_be_recorded_with_a_rejection(world, claimed):
    _, requests = claimed
    clearance_services.clearance_decide(
        request_id=requests["EMISSION"].pk,
        officer=world.emission_officer,
        decision=ClearanceStatus.REJECTED,
        remarks="CO too high.",
        findings=emission_readings(co_percent=Decimal("6.1")),
    )
    assert EmissionClearanceDetail.objects.get().passed is False


def test_emission_limits_are_data(world, claimed):
    _, requests = claimed
    EmissionLimit.objects.filter(fuel="").update(max_co_percent=Decimal("1.00"))
    errors = refused(world, requests["EMISSION"], emission_readings(co_percent=Decimal("1.2")))
    assert errors == {"co_percent": ["CO 1.2% exceeds the limit of 1.00%."]}


def test_an_old_emission_test_cannot_approve(world, claimed):
    _, requests = claimed
    old = timezone.localdate() - dt.timedelta(days=61)
    errors = refused(world, requests["EMISSION"], emission_readings(test_date=old))
    assert "older than 60 days" in errors["test_date"][0]


def test_coverage_that_does_not_cover_the_registration_period_is_refused(world, claimed):
    application, requests = claimed
    short = insurance_cover(application, coverage_end=application.period_end - dt.timedelta(days=1))
    errors = refused(world, requests["INSURANCE"], short)
    assert "before the registration period ends" in errors["coverage_end"][0]
    late = insurance_cover(
        application, coverage_start=application.period_start + dt.timedelta(days=3)
    )
    errors = refused(world, requests["INSURANCE"], late)
    assert "after the registration period begins" in errors["coverage_start"][0]


def test_hpg_cannot_approve_a_stolen_or_mismatched_vehicle(world, claimed):
    application, requests = claimed
    vehicle = application.vehicle
    errors = refused(world, requests["HPG"], hpg_findings(vehicle, stolen_vehicle_check="hit"))
    assert errors["stolen_vehicle_check"] == ["Cannot approve a vehicle reported stolen."]
    errors = refused(world, requests["HPG"], hpg_findings(vehicle, engine_number_checked="X1"))
    assert "engine number checked does not match" in errors["engine_number_checked"][0]


def test_findings_of_another_kind_are_refused(world, claimed):
    application, requests = claimed
    errors = refused(world, requests["HPG"], insurance_cover(application))
    assert errors == {"findings": ["A HPG clearance takes HpgFindings findings."]}
