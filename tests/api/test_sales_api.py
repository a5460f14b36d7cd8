"""Sales through the API: the same services, idempotency and problems as the pages."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework.test import APIClient

from registry import sales
from registry.models import Sale
from tests.api.test_problems import assert_problem
from tests.transfers import registered


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_seller_starts_a_sale_and_the_buyer_accepts_with_the_link_s_token(world):
    vehicle = registered(world)
    seller = signed_in(world.owner)

    started = seller.post(
        "/api/v1/sales/",
        {"vehicle": vehicle.pk, "buyer_email": world.other_owner.email},
        format="json",
    )

    assert started.status_code == 201, started.content
    body = started.json()
    assert body["status"] == "awaiting_buyer" and body["application"] is None
    assert body["vehicle"]["plate_number"] == vehicle.plate_number
    sale = Sale.objects.get(pk=body["id"])
    answered = signed_in(world.other_owner).post(
        "/api/v1/sales/answer/",
        {"token": sales.sale_token(sale), "answer": "accept"},
        format="json",
    )
    assert answered.status_code == 200, answered.content
    sale.refresh_from_db()
    assert answered.json()["application"] == sale.application.reference
    assert answered.json()["status"] == "accepted"
    listed = signed_in(world.other_owner).get("/api/v1/sales/").json()
    assert [row["id"] for row in listed] == [sale.pk]


def test_a_retried_start_with_the_same_idempotency_key_opens_one_sale(world):
    vehicle = registered(world)
    seller = signed_in(world.owner)
    request = {"vehicle": vehicle.pk, "buyer_email": world.other_owner.email}
    headers = {"HTTP_IDEMPOTENCY_KEY": "sale-start-0001"}

    first = seller.post("/api/v1/sales/", request, format="json", **headers)
    again = seller.post("/api/v1/sales/", request, format="json", **headers)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Sale.objects.count() == 1


def test_refusals_are_problems_and_change_nothing(world):
    vehicle = registered(world)
    seller = signed_in(world.owner)

    to_self = seller.post(
        "/api/v1/sales/", {"vehicle": vehicle.pk, "buyer_email": world.owner.email}, format="json"
    )
    not_mine = signed_in(world.other_owner).post(
        "/api/v1/sales/", {"vehicle": vehicle.pk, "buyer_email": "x@example.ph"}, format="json"
    )
    bad_email = seller.post(
        "/api/v1/sales/", {"vehicle": vehicle.pk, "buyer_email": "not an address"}, format="json"
    )

    assert assert_problem(to_self, 422, "invalid")["errors"]["buyer_email"]
    assert assert_problem(not_mine, 422, "invalid")["errors"]["vehicle"]
    assert assert_problem(bad_email, 400, "invalid")["errors"]["buyer_email"]
    assert not Sale.objects.exists()

    sale = sales.sale_start(seller=world.owner, vehicle_id=vehicle.pk, buyer_email="b@example.ph")
    twice = seller.post(
        "/api/v1/sales/", {"vehicle": vehicle.pk, "buyer_email": "c@example.ph"}, format="json"
    )
    wrong_buyer = signed_in(world.other_owner).post(
        "/api/v1/sales/answer/",
        {"token": sales.sale_token(sale), "answer": "accept"},
        format="json",
    )
    forged = signed_in(world.other_owner).post(
        "/api/v1/sales/answer/", {"token": "forged", "answer": "accept"}, format="json"
    )
    future = seller.post(
        f"/api/v1/sales/{sale.pk}/notice/",
        {"handed_over_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
        format="json",
    )
    stranger = signed_in(world.other_owner).get(f"/api/v1/sales/{sale.pk}/")

    assert_problem(twice, 409, "conflict")
    assert_problem(wrong_buyer, 403, "permission_denied")
    assert_problem(forged, 422, "invalid")
    assert assert_problem(future, 422, "invalid")["errors"]["handed_over_on"]
    assert_problem(stranger, 404, "not_found")
    sale.refresh_from_db()
    assert sale.status == "awaiting_buyer" and sale.notice_filed_at is None
    assert Sale.objects.count() == 1


def test_the_lto_reads_and_cancels_a_sale_and_the_seller_cannot(world):
    vehicle = registered(world)
    sale = sales.sale_start(seller=world.owner, vehicle_id=vehicle.pk, buyer_email="b@example.ph")

    refused = signed_in(world.owner).post(
        f"/api/v1/sales/{sale.pk}/cancel/", {"reason": "No"}, format="json"
    )
    cancelled = signed_in(world.lto_admin).post(
        f"/api/v1/sales/{sale.pk}/cancel/", {"reason": "Reported stolen."}, format="json"
    )

    assert_problem(refused, 403, "permission_denied")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["end_reason"] == "Reported stolen."
