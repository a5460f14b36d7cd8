"""A person's notifications over the API: their own only, paged, marked read."""

from __future__ import annotations

from clearance.events import CLEARANCE_APPROVED
from notifications.models import Notification
from notifications.services import notify
from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem


def _tell(user, n: int = 1, title: str = "Clearance approved") -> list[Notification]:
    return [
        notify(
            recipients=[user],
            event=CLEARANCE_APPROVED,
            title=f"{title} {i}",
            body="",
            link="/",
        )[0]
        for i in range(n)
    ]


def test_the_list_holds_only_the_callers_own_notifications_with_the_unread_count(office):
    world = office.world
    mine = _tell(world.owner, 2, "Yours")
    _tell(world.other_owner, 1, "Not yours")
    own_ids = set(Notification.objects.filter(recipient=world.owner).values_list("pk", flat=True))

    response = client_for(office, "owner").get("/api/v1/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert {row["id"] for row in body["results"]} == own_ids
    assert mine[-1].pk == body["results"][0]["id"]  # newest first
    assert "Not yours" not in response.content.decode()
    assert body["unread_count"] == len(own_ids)


def test_the_list_pages_by_cursor(office):
    _tell(office.world.other_owner, 3)
    client = client_for(office, "other_owner")
    total = Notification.objects.filter(recipient=office.world.other_owner).count()

    seen: list[int] = []
    response = client.get("/api/v1/notifications/", {"page_size": 2})
    while True:
        seen += [row["id"] for row in response.json()["results"]]
        if not response.json()["next"]:
            break
        response = client.get(response.json()["next"])

    assert len(seen) == len(set(seen)) == total


def test_marking_one_read_lowers_the_unread_count(office):
    [notification] = _tell(office.world.owner)
    client = client_for(office, "owner")
    unread = client.get("/api/v1/notifications/").json()["unread_count"]

    response = client.post(f"/api/v1/notifications/{notification.pk}/read/")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert client.get("/api/v1/notifications/").json()["unread_count"] == unread - 1
    only_unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert notification.pk not in {row["id"] for row in only_unread}
    only_read = client.get("/api/v1/notifications/", {"unread": "false"}).json()["results"]
    assert [row["id"] for row in only_read] == [notification.pk]


def test_someone_elses_notification_is_404_and_stays_unread(office):
    [theirs] = _tell(office.world.other_owner)

    response = client_for(office, "owner").post(f"/api/v1/notifications/{theirs.pk}/read/")

    assert_problem(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_all_read_leaves_none_unread_and_says_how_many(office):
    world = office.world
    _tell(world.owner, 3)
    _tell(world.other_owner, 2)
    unread = Notification.objects.filter(recipient=world.owner, read_at__isnull=True).count()

    response = client_for(office, "owner").post("/api/v1/notifications/read-all/")

    assert response.json() == {"marked": unread, "unread_count": 0}
    assert not Notification.objects.filter(recipient=world.owner, read_at__isnull=True).exists()
    assert (
        Notification.objects.filter(recipient=world.other_owner, read_at__isnull=True).count() >= 2
    )


def test_an_invalid_unread_filter_is_a_400_naming_it(office):
    response = client_for(office, "owner").get("/api/v1/notifications/", {"unread": "perhaps"})

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"unread"}
