"""Officers and org admins through the pages: claim, decide with the kind's fields, invite."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clearance.models import ClearanceRequest
from organisations.models import Membership
from tests.conftest import sent_for_clearance


def claimed_emission_request(client, world):
    """The emission request of a fresh application, claimed by the signed-in emission officer."""
    _, requests = sent_for_clearance(world)
    request = requests["EMISSION"]
    client.force_login(world.emission_officer)
    client.post(reverse("clearance-claim", args=[request.pk]))
    return request


def approve_emission(client, request, **readings):
    return client.post(
        reverse("clearance-decide", args=[request.pk]),
        {
            "decision": "approved",
            "remarks": "",
            "testing_centre": "Maharlika ETC",
            "certificate_number": "ETC-77",
            "test_date": timezone.localdate().isoformat(),
            "fuel": "gasoline",
            "co_percent": "0.9",
            "hc_ppm": "100",
            **readings,
        },
    )


def test_an_officer_claims_and_approves_an_emission_request_from_the_form(client, world):
    request = claimed_emission_request(client, world)
    response = approve_emission(client, request)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved" and request.emission_detail.passed


def test_readings_over_the_limit_are_shown_on_the_form_with_the_reading_named(client, world):
    request = claimed_emission_request(client, world)
    response = approve_emission(client, request, co_percent="5.2")
    assert response.status_code == 422
    assert b"CO 5.2% exceeds the limit of 4.50%." in response.content
    request.refresh_from_db()
    assert request.status == "in_review"


def test_the_emission_fragment_checks_readings_while_typing(client, world):
    _, requests = sent_for_clearance(world)
    client.force_login(world.emission_officer)
    url = reverse("emission-check", args=[requests["EMISSION"].pk])
    failing = client.get(url, {"fuel": "gasoline", "co_percent": "4.6", "hc_ppm": "700"})
    body = failing.content.decode()
    assert "CO 4.6% exceeds the limit of 4.50%." in body
    assert "HC 700 ppm exceeds the limit of 600 ppm." in body
    assert "<html" not in body
    passing = client.get(url, {"fuel": "gasoline", "co_percent": "1", "hc_ppm": "50"})
    assert b"Passes the limits." in passing.content


def test_returning_without_remarks_is_refused_on_the_form(client, world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    client.force_login(world.hpg_officer)
    client.post(reverse("clearance-claim", args=[request.pk]))
    response = client.post(
        reverse("clearance-decide", args=[request.pk]), {"decision": "returned", "remarks": ""}
    )
    assert response.status_code == 422
    assert b"Say why in the remarks" in response.content


def test_a_second_decision_on_a_decided_request_is_a_409(client, world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    client.force_login(world.hpg_officer)
    client.post(reverse("clearance-claim", args=[request.pk]))
    client.post(
        reverse("clearance-decide", args=[request.pk]),
        {"decision": "returned", "remarks": "Stencil photo missing."},
    )
    client.force_login(world.hpg_officer_2)
    response = client.post(
        reverse("clearance-decide", args=[request.pk]), {"decision": "rejected", "remarks": "Late."}
    )
    assert response.status_code == 409
    assert b"already returned" in response.content


def test_the_queue_shows_only_the_organisations_open_requests_overdue_first(client, world):
    _, requests = sent_for_clearance(world)
    ClearanceRequest.objects.filter(pk=requests["HPG"].pk).update(
        due_at=timezone.now() - dt.timedelta(hours=1)
    )
    client.force_login(world.hpg_officer)
    body = client.get(reverse("clearance-queue"), {"show": "overdue"}).content.decode()
    assert f"HPG #{requests['HPG'].pk}" in body and "Overdue" in body
    assert f"#{requests['INSURANCE'].pk}<" not in body


def test_an_org_admin_invites_and_deactivates_an_officer(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.hpg_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organisation"),
            {
                "username": "new.officer",
                "first_name": "Nina",
                "last_name": "Ramos",
                "email": "nina@example.ph",
                "role": "officer",
            },
        )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="new.officer")
    assert membership.organisation == world.hpg
    assert "/password-reset/" in mail.outbox[-1].body

    client.post(reverse("membership-deactivate", args=[membership.pk]), {"confirm": "on"})
    membership.refresh_from_db()
    assert not membership.is_active


def test_an_org_admin_cannot_touch_another_organisations_officers(client, world):
    other = Membership.objects.get(user=world.insurer_officer)
    client.force_login(world.hpg_admin)
    assert client.post(reverse("membership-deactivate", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.is_active
