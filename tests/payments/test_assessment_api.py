"""GET /api/v1/applications/{id}/assessment/: the owner's and LTO's view of the fees."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments.models import FeeSchedule
from registry.models import Vehicle
from tests.conftest import draft_application, sent_for_clearance

pytestmark = pytest.mark.django_db


def _url(application) -> str:
    return reverse("api:application-assessment", args=[application.pk])


def test_the_owner_reads_the_itemised_assessment_in_centavos(client, world):
    application = draft_application(world)
    Vehicle.objects.filter(pk=application.vehicle_id).update(gvw_kg=1450)
    client.force_login(world.owner)
    body = client.get(_url(application)).json()
    assert body["currency"] == "PHP"
    # By hand: MVUC 1,600 + registration 1,000 + computer 154 + sticker 50 + plate 450.
    assert body["total_centavos"] == 325400
    assert sum(item["amount_centavos"] for item in body["items"]) == 325400
    unconfirmed = {item["code"] for item in body["items"] if not item["confirmed"]}
    assert unconfirmed == {"registration_fee", "computer_fee"}
    assert body["valid_until"]

    client.force_login(world.lto_admin)
    assert client.get(_url(application)).json()["total_centavos"] == 325400


def test_another_owner_gets_a_404_and_no_schedule_is_a_409(client, world):
    application = draft_application(world)
    client.force_login(world.other_owner)
    assert client.get(_url(application)).status_code == 404

    FeeSchedule.objects.all().delete()
    client.force_login(world.owner)
    response = client.get(_url(application))
    assert response.status_code == 409
    assert "No fee schedule" in response.json()["detail"]


def test_a_clearing_officer_who_sees_the_application_gets_a_403_for_its_fees(client, world):
    application, _ = sent_for_clearance(world)
    client.force_login(world.hpg_officer)
    assert client.get(reverse("api:application", args=[application.pk])).status_code == 200
    response = client.get(_url(application))
    assert response.status_code == 403
    assert not application.assessments.exists()
