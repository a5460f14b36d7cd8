"""An application is filed at an LTO office: the owner's choice, the first office by default."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from organisations.models import Office
from registry.models import RegistrationApplication
from tests.factories import VehicleFactory

pytestmark = pytest.mark.django_db


def test_the_seeded_offices_are_marked_demo_and_the_first_is_the_default(client, world):
    assert set(Office.objects.values_list("code", "is_demo")) == {
        ("NCR-MKT-DO", True),
        ("NCR-QC-DO", True),
        ("R07-CEB-DO", True),
    }
    vehicle = VehicleFactory(owner=world.owner)
    client.force_login(world.owner)
    client.post(reverse("application-new"), {"vehicle": vehicle.pk, "type": "new"})
    assert RegistrationApplication.objects.get(vehicle=vehicle).office.code == "NCR-MKT-DO"


def test_the_owner_chooses_the_office_on_the_form(client, world):
    vehicle = VehicleFactory(owner=world.owner)
    cebu = Office.objects.get(code="R07-CEB-DO")
    client.force_login(world.owner)
    client.post(
        reverse("application-new"), {"vehicle": vehicle.pk, "type": "new", "office": cebu.pk}
    )
    assert RegistrationApplication.objects.get(vehicle=vehicle).office == cebu


def test_the_api_takes_an_office_code_and_an_unknown_one_is_a_422_changing_nothing(world):
    api = APIClient()
    api.force_login(world.owner)
    vehicle = VehicleFactory(owner=world.owner)
    refused = api.post(
        "/api/v1/applications/",
        {"vehicle": vehicle.pk, "type": "new", "office": "NOPE"},
        format="json",
    )
    assert refused.status_code == 422, refused.content
    assert "office" in refused.json()["errors"]
    assert not RegistrationApplication.objects.filter(vehicle=vehicle).exists()

    created = api.post(
        "/api/v1/applications/",
        {"vehicle": vehicle.pk, "type": "new", "office": "NCR-QC-DO"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["office"] == "NCR-QC-DO"
