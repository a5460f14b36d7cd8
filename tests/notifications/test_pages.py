"""The list, mark-read endpoints and the bell only ever touch the signed-in user's own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clearance.events import CLEARANCE_APPROVED
from notifications import services
from notifications.context_processors import bell
from notifications.models import Notification


def notify(user, title="Clearance approved", link="/applications/1/"):
    [notification] = services.notify(
        recipients=[user], event=CLEARANCE_APPROVED, title=title, body="", link=link
    )
    return notification


@pytest.fixture
def owner_client(client, world):
    client.force_login(world.owner)
    return client


def test_the_list_shows_only_my_notifications(world, owner_client):
    notify(world.owner, title="Mine")
    notify(world.other_owner, title="Someone else's")

    response = owner_client.get("/notifications/")

    assert response.status_code == 200
    assert [n.title for n in response.context["page"]] == ["Mine"]
    assert "Someone else&#x27;s" not in response.content.decode()


def test_the_list_is_paginated(world, owner_client):
    for number in range(25):
        notify(world.owner, title=f"Notification {number}")

    first = owner_client.get("/notifications/")
    second = owner_client.get("/notifications/?page=2")

    assert len(first.context["page"]) == 20 and len(second.context["page"]) == 5
    assert second.context["page"][4].title == "Notification 0"  # newest first


def test_the_list_needs_a_signed_in_user(client, db):
    response = client.get("/notifications/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_i_can_mark_my_notification_read(world, owner_client):
    mine = notify(world.owner)

    response = owner_client.post(f"/notifications/{mine.pk}/read/")

    assert response.status_code == 302 and response["Location"] == "/notifications/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_marking_read_over_htmx_returns_the_updated_item(world, owner_client):
    mine = notify(world.owner, title="Mine")

    response = owner_client.post(f"/notifications/{mine.pk}/read/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.templates[0].name == "notifications/_item.html"
    assert "Mark read" not in response.content.decode()


def test_marking_someone_elses_notification_read_is_a_404_and_changes_nothing(world, owner_client):
    theirs = notify(world.other_owner)

    response = owner_client.post(f"/notifications/{theirs.pk}/read/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post(world, owner_client):
    mine = notify(world.owner)

    assert owner_client.get(f"/notifications/{mine.pk}/read/").status_code == 405


def test_marking_read_needs_the_csrf_token(world, client):
    mine = notify(world.owner)
    client.handler.enforce_csrf_checks = True
    client.force_login(world.owner)

    assert client.post(f"/notifications/{mine.pk}/read/").status_code == 403


def test_mark_all_read_marks_only_mine_and_returns_to_the_page(world, owner_client):
    mine = [notify(world.owner), notify(world.owner)]
    theirs = notify(world.other_owner)

    response = owner_client.post("/notifications/read-all/", {"page": "2"})

    assert response["Location"] == "/notifications/?page=2"
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[m.pk for m in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_bell_shows_my_unread_count_and_latest_five(world, owner_client):
    for number in range(7):
        notify(world.owner, title=f"Notification {number}")
    Notification.objects.filter(title="Notification 0").update(read_at=timezone.now())
    notify(world.other_owner, title="Someone else's")

    response = owner_client.get("/notifications/bell/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "data-bell-count>6</span>" in html
    assert 'hx-get="/notifications/bell/"' in html
    assert 'hx-trigger="talaan:changed from:body, talaan:resync from:body"' in html
    assert [n.title for n in response.context["bell_latest"]] == [
        f"Notification {n}" for n in (6, 5, 4, 3, 2)
    ]


def test_the_bell_costs_the_same_queries_however_many_notifications(world, owner_client):
    notify(world.owner)
    with CaptureQueriesContext(connection) as one:
        owner_client.get("/notifications/bell/")
    for _ in range(10):
        notify(world.owner)

    with CaptureQueriesContext(connection) as eleven:
        owner_client.get("/notifications/bell/")

    assert len(eleven) == len(one)


def test_the_bell_hides_the_badge_with_nothing_unread(world, owner_client):
    html = owner_client.get("/notifications/bell/").content.decode()

    assert "data-bell-count hidden>0</span>" in html


def test_the_bell_for_a_signed_out_page_changes_nothing(client, db):
    response = client.get("/notifications/bell/")

    assert response.status_code == 204 and response.content == b""


def test_the_bell_renders_standalone_from_the_context_processor(world, rf):
    from django.template.loader import render_to_string

    notify(world.owner)
    request = rf.get("/")
    request.user = world.owner

    html = render_to_string("notifications/_bell.html", request=request)

    assert "data-bell-count>1</span>" in html and 'href="/notifications/"' in html


def test_the_context_processor_queries_only_when_a_template_shows_the_bell(
    world, rf, django_assert_num_queries
):
    notify(world.owner)
    request = rf.get("/")
    request.user = world.owner

    with django_assert_num_queries(0):
        context = bell(request)
    with django_assert_num_queries(1):
        assert str(context["unread_count"]) == "1"


def test_the_context_processor_gives_a_signed_out_page_nothing(rf):
    request = rf.get("/")
    request.user = AnonymousUser()

    assert bell(request) == {}
