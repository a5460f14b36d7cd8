"""Who may see what, checked on every object through the HTTP pages people use."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clearance.selectors import clearance_request_get_for_user, clearance_requests_for_user
from registry.selectors import applications_for_user
from tests.conftest import filed_application, sent_for_clearance


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_an_owner_cannot_see_another_owners_application(client, world):
    application = filed_application(world, owner=world.other_owner)
    url = reverse("application-detail", args=[application.pk])

    assert page(client, world.owner, url).status_code == 404
    assert page(client, world.other_owner, url).status_code == 200


def test_the_home_page_lists_only_the_owners_own_applications(client, world):
    mine = filed_application(world)
    theirs = filed_application(world, owner=world.other_owner)

    body = page(client, world.owner, reverse("home")).content.decode()
    assert mine.reference in body and theirs.reference not in body


def test_an_officer_sees_only_their_organisations_requests(client, world):
    application, requests = sent_for_clearance(world)
    visible = set(clearance_requests_for_user(world.hpg_officer).values_list("kind", flat=True))
    assert visible == {"HPG"}
    from django.http import Http404

    with pytest.raises(Http404):
        clearance_request_get_for_user(user=world.hpg_officer, pk=requests["INSURANCE"].pk)

    body = page(
        client, world.hpg_officer, reverse("application-detail", args=[application.pk])
    ).content.decode()
    assert "PNP-HPG" in body and "Bayanihan Mutual" not in body


def test_an_officer_cannot_open_an_application_never_sent_to_them(client, world):
    application = filed_application(world)
    url = reverse("application-detail", args=[application.pk])
    assert page(client, world.hpg_officer, url).status_code == 404
    sent_for_clearance(world, application)
    assert page(client, world.hpg_officer, url).status_code == 200


def test_lto_staff_see_every_application(world):
    filed_application(world)
    filed_application(world, owner=world.other_owner)
    assert applications_for_user(world.lto_admin).count() == 2
    assert applications_for_user(world.insurer_officer).count() == 0


def test_pages_need_a_signed_in_user(client, world):
    application = filed_application(world)
    response = client.get(reverse("application-detail", args=[application.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_owner_sees_each_clearance_with_its_ledger_receipt(client, world):
    application, requests = sent_for_clearance(world)
    body = page(
        client, world.owner, reverse("application-detail", args=[application.pk])
    ).content.decode()
    for request in requests.values():
        change = request.status_changes.get()
        assert change.ledger_tx_id[:16] in body
    assert "entry #" in body


def test_the_lto_queue_query_count_does_not_grow_with_applications(
    client, world, django_assert_max_num_queries
):
    for _ in range(3):
        sent_for_clearance(world)
    client.force_login(world.lto_admin)
    with django_assert_max_num_queries(12):
        client.get(reverse("lto-queue"))
    for _ in range(3):
        sent_for_clearance(world)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("lto-queue"))
    assert response.status_code == 200
