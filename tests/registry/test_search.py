"""The LTO's search finds what people type, on the page and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ApplicationFactory, UserFactory, VehicleFactory


@pytest.fixture
def wanted(world):
    """One application whose owner, vehicle and reference every search below names, and one
    that none of them names."""
    owner = UserFactory(
        username="jdelacruz",
        email="Juan.DelaCruz@example.ph",
        first_name="Juan",
        last_name="Dela Cruz",
    )
    vehicle = VehicleFactory(
        owner=owner,
        vin="JTDBR32E720099887",
        plate_number="NBC 1234",
        make="Mitsubishi",
        model="Montero Sport",
    )
    other_owner = UserFactory(first_name="Maria", last_name="Santos", email="maria@example.ph")
    other = ApplicationFactory(
        applicant=other_owner,
        vehicle=VehicleFactory(
            owner=other_owner, make="Honda", model="City", plate_number="ABC 987"
        ),
    )
    return ApplicationFactory(applicant=owner, vehicle=vehicle), other


TYPED = [
    "Juan",  # first name
    "juan dela cruz",  # full name, any case
    "Dela Cruz",  # last name
    "nbc1234",  # plate without its space, lower case
    "NBC 1234",  # plate as issued
    "mitsubishi",  # make
    "Montero",  # model
    "mitsubishi montero",  # make and model
    "juan.delacruz@EXAMPLE.ph",  # e-mail, any case
    "jtdbr32e720099887",  # VIN, lower case
    "JTDBR 32E72 0099887",  # VIN with spaces
    "JDELACRUZ",  # username, any case
]


@pytest.mark.parametrize("typed", TYPED)
def test_the_lto_queue_finds_what_people_type(client, world, wanted, typed):
    application, other = wanted
    client.force_login(world.lto_admin)
    rows = client.get(reverse("lto-queue"), {"q": typed}, HTTP_HX_REQUEST="true").content.decode()
    assert application.reference in rows
    assert other.reference not in rows


def test_the_lto_queue_finds_a_reference_typed_in_lower_case(client, world, wanted):
    application, other = wanted
    client.force_login(world.lto_admin)
    rows = client.get(
        reverse("lto-queue"), {"q": f" {application.reference.lower()} "}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert application.reference in rows and other.reference not in rows


def test_two_letters_match_exactly_not_as_part_of_a_name(client, world, wanted):
    application, _ = wanted
    client.force_login(world.lto_admin)
    rows = client.get(reverse("lto-queue"), {"q": "ua"}, HTTP_HX_REQUEST="true").content.decode()
    assert application.reference not in rows


@pytest.mark.parametrize("typed", [*TYPED, "tln-"])
def test_the_application_list_api_searches_with_q(client, world, wanted, typed):
    application, other = wanted
    client.force_login(world.lto_admin)
    if typed == "tln-":
        typed = application.reference.lower()
    response = client.get("/api/v1/applications/", {"q": typed})
    assert response.status_code == 200
    references = [row["reference"] for row in response.json()["results"]]
    assert application.reference in references and other.reference not in references


def test_an_owner_searching_the_api_finds_only_their_own(client, world, wanted):
    application, other = wanted
    client.force_login(other.applicant)
    response = client.get("/api/v1/applications/", {"q": application.reference})
    assert response.json()["results"] == []


def test_the_api_vin_filter_takes_a_lower_case_vin_with_spaces(client, world, wanted):
    application, _ = wanted
    client.force_login(world.lto_admin)
    response = client.get("/api/v1/applications/", {"vin": "jtdbr32e720099887"})
    assert [row["reference"] for row in response.json()["results"]] == [application.reference]


def test_a_deep_page_of_the_lto_list_shows_its_rows_past_a_capped_count(client, world, monkeypatch):
    # Small stand-ins for 25 a page, a count capped at 10,000 and deep pages from row 500:
    # the same code paths with seven applications instead of twelve thousand.
    monkeypatch.setattr("registry.views.LTO_PAGE_SIZE", 2)
    monkeypatch.setattr("kernel.paging.COUNT_CAP", 3)
    monkeypatch.setattr("kernel.paging.SHALLOW", 0)
    applications = [ApplicationFactory() for _ in range(7)]
    newest_first = [a.reference for a in sorted(applications, key=lambda a: (a.created_at, a.pk))][
        ::-1
    ]
    client.force_login(world.lto_admin)

    first = client.get(reverse("lto-queue")).content.decode()
    assert "3+ applications" in first

    third = client.get(reverse("lto-queue"), {"page": "3"}).content.decode()
    assert [ref for ref in newest_first if ref in third] == newest_first[4:6]
    assert "Page 3 of" in third and 'rel="next"' in third and 'rel="prev"' in third

    last = client.get(reverse("lto-queue"), {"page": "4"}).content.decode()
    assert [ref for ref in newest_first if ref in last] == newest_first[6:]
    assert 'rel="next"' not in last
