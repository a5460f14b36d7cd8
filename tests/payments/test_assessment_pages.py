"""The application's page shows its owner and LTO staff the itemised fee assessment; the
clearing organisations see the page without it; anyone else gets the 404 they got before."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments.models import Assessment
from registry import services
from registry.models import Vehicle
from tests.conftest import draft_application, sent_for_clearance, with_required_documents

pytestmark = pytest.mark.django_db

# Seeded schedule, by hand: MVUC ₱1,600 (car ≤ 1,600 kg) + registration ₱1,000 + computer
# ₱154 + sticker ₱50 + plate ₱450.
TOTAL = "₱3,254.00"


def _light_car(application):
    Vehicle.objects.filter(pk=application.vehicle_id).update(gvw_kg=1450)
    application.refresh_from_db()
    return application


def test_the_owner_sees_the_itemised_assessment_of_a_draft_before_submitting(client, world):
    application = _light_car(draft_application(world))
    client.force_login(world.owner)
    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert 'data-testid="assessment"' in page
    assert "₱1,600.00" in page  # the MVUC line
    assert TOTAL in page
    assert "(unconfirmed)" in page  # the registration and computer fees
    assert "valid until" in page
    assessment = Assessment.objects.get(application=application)
    assert assessment.total_centavos == 325400


def test_lto_staff_see_the_same_assessment_and_a_clearing_officer_sees_none(client, world):
    application = _light_car(draft_application(world))
    client.force_login(world.owner)
    client.get(reverse("application-detail", args=[application.pk]))
    with_required_documents(application)
    services.application_submit(application_id=application.pk, actor=world.owner)
    application, _ = sent_for_clearance(world, application)

    client.force_login(world.lto_admin)
    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert TOTAL in page and "(unconfirmed)" in page
    assert Assessment.objects.filter(application=application).count() == 1  # still valid

    client.force_login(world.hpg_officer)
    response = client.get(reverse("application-detail", args=[application.pk]))
    assert response.status_code == 200
    assert 'data-testid="assessment"' not in response.content.decode()


def test_another_owner_gets_a_404_and_nothing_is_assessed(client, world):
    application = _light_car(draft_application(world))
    client.force_login(world.other_owner)
    response = client.get(reverse("application-detail", args=[application.pk]))
    assert response.status_code == 404
    assert not Assessment.objects.filter(application=application).exists()
