"""Transfer of ownership between two people: the seller's sale, the buyer's answer from the
e-mailed link, the papers, and the LTO's approval that moves the ownership and supersedes the
seller's certificate. Every refusal leaves the rows as they were."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kernel.errors import Conflict, PermissionDenied
from notifications.models import Notification
from registry import sales
from registry import services as registry_services
from registry.document_services import DocumentsMissing, document_upload
from registry.models import (
    Certificate,
    Document,
    OwnershipPeriod,
    RegistrationApplication,
    RegistrationPeriod,
    Sale,
)
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance
from tests.factories import UserFactory
from tests.paying import pay_in_full
from tests.transfers import PDF, registered


def offered(world, vehicle=None, buyer=None):
    vehicle = vehicle or registered(world)
    buyer = buyer or world.other_owner
    return sales.sale_start(seller=world.owner, vehicle_id=vehicle.pk, buyer_email=buyer.email)


def rows():
    """What a refusal must leave as it was."""
    return (
        list(Sale.objects.values_list("pk", "status", "buyer_id", "application_id")),
        RegistrationApplication.objects.count(),
        list(Certificate.objects.values_list("pk", "status")),
        list(OwnershipPeriod.objects.values_list("pk", "owner_id", "ended_on")),
    )


def upload(application, uploader, doc_type, name="paper.pdf"):
    return document_upload(
        application_id=application.pk,
        uploader=uploader,
        doc_type=doc_type,
        upload=SimpleUploadedFile(name, PDF),
    )


def test_the_buyer_is_e_mailed_a_link_that_opens_the_offer(
    world, client, eager_celery, django_capture_on_commit_callbacks
):
    vehicle = registered(world)
    mail.outbox.clear()
    client.force_login(world.owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sale-start", args=[vehicle.pk]), {"buyer_email": world.other_owner.email}
        )

    sale = Sale.objects.get()
    assert response.status_code == 302 and sale.status == Sale.Status.AWAITING_BUYER
    [invitation] = [m for m in mail.outbox if m.to == [world.other_owner.email]]
    link = re.search(r"https?://\S+/sales/answer/\S+/", invitation.body).group(0)
    sale.refresh_from_db()
    assert sale.invitation_sent_at is not None
    client.force_login(world.other_owner)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    body = page.content.decode()
    assert vehicle.plate_number in body and world.owner.get_full_name() in body
    assert world.owner.email not in body and vehicle.vin not in body


def test_accepting_files_the_transfer_in_the_buyer_s_name_and_tells_the_seller(world):
    sale = offered(world)

    sale = sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))

    application = sale.application
    assert sale.status == Sale.Status.ACCEPTED and sale.buyer == world.other_owner
    assert application.applicant == world.other_owner and application.type == "transfer"
    assert application.status == "draft"
    assert Notification.objects.filter(recipient=world.owner, event="sale_answered").exists()


def test_the_whole_transfer_moves_the_ownership_and_supersedes_the_seller_s_cr(world, client):
    vehicle = registered(world)
    seller_cr = Certificate.objects.get(vehicle=vehicle)
    sale = offered(world, vehicle)
    sale = sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))
    application = sale.application
    sales.notice_of_sale_file(
        seller=world.owner, sale_id=sale.pk, handed_over_on=timezone.localdate()
    )
    upload(application, world.owner, "deed_of_sale")
    upload(application, world.other_owner, "government_id")
    upload(application, world.other_owner, "insurance_coc")
    registry_services.application_submit(application_id=application.pk, actor=world.other_owner)
    application, requests = sent_for_clearance(world, application)
    assert sorted(requests) == ["HPG", "INSURANCE"]  # what the data says a transfer needs
    for request in requests.values():
        claim_and_approve(world, request)

    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    vehicle.refresh_from_db()
    seller_cr.refresh_from_db()
    sale.refresh_from_db()
    buyer_cr = Certificate.objects.get(vehicle=vehicle, status=Certificate.Status.VALID)
    assert vehicle.owner == world.other_owner and buyer_cr.owner == world.other_owner
    assert seller_cr.status == Certificate.Status.SUPERSEDED
    assert seller_cr.superseded_by == buyer_cr
    assert sale.status == Sale.Status.COMPLETED
    periods = OwnershipPeriod.objects.filter(vehicle=vehicle).order_by("started_on", "id")
    assert [(p.owner, p.acquired, p.ended_on is None) for p in periods] == [
        (world.owner, "first_registration", False),
        (world.other_owner, "transfer", True),
    ]
    told = set(
        Notification.objects.filter(event="transfer_completed").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {world.owner.username, world.other_owner.username}
    # The transfer carries the registration over: the buyer's period ends when the seller's did.
    assert RegistrationPeriod.objects.get(application=application).valid_to == (
        RegistrationPeriod.objects.filter(vehicle=vehicle)
        .exclude(application=application)
        .get()
        .valid_to
    )
    public = client.get(reverse("verify-search"), {"q": seller_cr.number}).content.decode()
    assert "was replaced on" in public
    # Each party sees the ownership periods while they owned it; a stranger sees nothing.
    client.force_login(world.owner)
    seller_view = client.get(reverse("vehicle-ownership", args=[vehicle.pk])).content.decode()
    assert world.other_owner.get_full_name() not in seller_view
    client.force_login(UserFactory())
    assert client.get(reverse("vehicle-ownership", args=[vehicle.pk])).status_code == 404
    client.force_login(world.lto_admin)
    lto_view = client.get(reverse("vehicle-ownership", args=[vehicle.pk])).content.decode()
    assert world.owner.get_full_name() in lto_view and world.other_owner.get_full_name() in lto_view


def test_a_transfer_without_its_papers_cannot_be_filed(world):
    sale = offered(world)
    application = sales.sale_accept(
        buyer=world.other_owner, token=sales.sale_token(sale)
    ).application
    upload(application, world.other_owner, "government_id")

    with pytest.raises(
        DocumentsMissing,
        match=r"Deed of sale \(the seller uploads it\) and Insurance certificate of cover",
    ):
        registry_services.application_submit(application_id=application.pk, actor=world.other_owner)

    application.refresh_from_db()
    assert application.status == "draft"


def test_the_seller_files_only_the_deed_of_sale(world):
    sale = offered(world)
    application = sales.sale_accept(
        buyer=world.other_owner, token=sales.sale_token(sale)
    ).application

    with pytest.raises(PermissionDenied, match="only the deed of sale"):
        upload(application, world.owner, "government_id")

    assert not application.documents.exists()


# Refusals, each leaving every row as it was -------------------------------------------------


def test_selling_to_yourself_is_refused(world):
    vehicle = registered(world)
    before = rows()

    with pytest.raises(ValidationError, match="sell a vehicle to yourself"):
        sales.sale_start(
            seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.owner.email.upper()
        )

    assert rows() == before


def test_a_second_sale_or_a_sale_during_an_application_is_refused(world):
    vehicle = registered(world)
    offered(world, vehicle)
    before = rows()

    with pytest.raises(Conflict, match="already has a sale open"):
        sales.sale_start(seller=world.owner, vehicle_id=vehicle.pk, buyer_email="x@example.ph")
    assert rows() == before

    other = registered(world)
    registry_services.application_create(
        applicant=world.owner,
        vehicle_id=other.pk,
        type="renewal",
        today=other.registration_periods.get().valid_to - dt.timedelta(days=10),
    )
    before = rows()
    with pytest.raises(Conflict, match="application in progress"):
        sales.sale_start(seller=world.owner, vehicle_id=other.pk, buyer_email="x@example.ph")
    assert rows() == before


def test_only_the_registered_owner_of_a_registered_vehicle_can_sell_it(world):
    vehicle = registered(world)
    unregistered = filed_application(world).vehicle
    before = rows()

    with pytest.raises(ValidationError, match="registered owner"):
        sales.sale_start(
            seller=world.other_owner, vehicle_id=vehicle.pk, buyer_email="x@example.ph"
        )
    with pytest.raises(ValidationError, match="registered owner"):
        sales.sale_start(seller=world.owner, vehicle_id=unregistered.pk, buyer_email="x@example.ph")

    assert rows() == before


def test_a_vehicle_whose_registration_expired_must_be_renewed_before_it_is_sold(world):
    vehicle = registered(world)
    RegistrationPeriod.objects.filter(vehicle=vehicle).update(
        valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2022, 12, 31)
    )
    before = rows()

    with pytest.raises(Conflict, match="expired on 31 December 2022: renew it before selling"):
        sales.sale_start(seller=world.owner, vehicle_id=vehicle.pk, buyer_email="x@example.ph")

    assert rows() == before


def test_a_link_used_twice_expired_or_opened_by_another_account_is_refused(world):
    sale = offered(world)
    token = sales.sale_token(sale)
    stranger = UserFactory()
    before = rows()

    with pytest.raises(PermissionDenied, match="another e-mail address"):
        sales.sale_accept(buyer=stranger, token=token)
    with pytest.raises(PermissionDenied, match="You are the seller"):
        sales.sale_accept(buyer=world.owner, token=token)
    with pytest.raises(ValidationError, match="not valid"):
        sales.sale_accept(buyer=world.other_owner, token=token[:-2] + "xx")
    assert rows() == before

    sales.sale_accept(buyer=world.other_owner, token=token)
    before = rows()
    with pytest.raises(Conflict, match="already answered"):
        sales.sale_accept(buyer=world.other_owner, token=token)
    with pytest.raises(Conflict, match="already answered"):
        sales.sale_decline(buyer=world.other_owner, token=token)
    assert rows() == before


def test_an_expired_invitation_is_refused_and_the_sweep_expires_it_and_tells_the_seller(world):
    sale = offered(world)
    token = sales.sale_token(sale)
    Sale.objects.filter(pk=sale.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    before = rows()

    with pytest.raises(ValidationError, match="expired"):
        sales.sale_accept(buyer=world.other_owner, token=token)
    assert rows() == before

    assert sales.sales_expire() == 1
    assert sales.sales_expire() == 0
    sale.refresh_from_db()
    assert sale.status == Sale.Status.EXPIRED
    assert Notification.objects.filter(recipient=world.owner, event="sale_expired").count() == 1


def test_the_seller_cannot_withdraw_once_the_buyer_accepted_but_the_lto_can_cancel(world):
    sale = offered(world)
    sale = sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))
    before = rows()

    with pytest.raises(Conflict, match="only the LTO can cancel"):
        sales.sale_withdraw(seller=world.owner, sale_id=sale.pk)
    with pytest.raises(PermissionDenied):
        sales.sale_cancel(actor=world.owner, sale_id=sale.pk, reason="Changed my mind")
    assert rows() == before

    sales.sale_cancel(actor=world.lto_admin, sale_id=sale.pk, reason="The deed is forged.")

    sale.refresh_from_db()
    sale.application.refresh_from_db()
    assert sale.status == Sale.Status.CANCELLED and sale.application.status == "cancelled"
    assert "The deed is forged." in sale.application.status_changes.last().reason


def test_withdrawing_a_sale_asks_first_and_a_late_withdrawal_is_told_not_a_500(world, client):
    sale = offered(world)
    url = reverse("sale-withdraw", args=[sale.pk])
    client.force_login(world.owner)

    detail = client.get(reverse("sale-detail", args=[sale.pk])).content.decode()
    asked = client.get(url)

    assert f'href="{url}"' in detail
    assert asked.status_code == 200 and "cannot be revived" in asked.content.decode()
    assert Sale.objects.get(pk=sale.pk).status == Sale.Status.AWAITING_BUYER

    sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))
    before = rows()
    late = client.post(url, follow=True)
    assert late.status_code == 200 and "only the LTO can cancel" in late.content.decode()
    assert rows() == before
    assert client.get(url, follow=True).redirect_chain[-1][0] == reverse(
        "sale-detail", args=[sale.pk]
    )


def test_the_seller_withdraws_a_sale_on_the_confirmation_page(world, client):
    sale = offered(world)
    client.force_login(world.owner)

    client.post(reverse("sale-withdraw", args=[sale.pk]))

    assert Sale.objects.get(pk=sale.pk).status == Sale.Status.WITHDRAWN


def test_the_notice_of_sale_is_filed_once_with_a_past_date(world):
    sale = offered(world)
    today = timezone.localdate()

    with pytest.raises(ValidationError, match="future"):
        sales.notice_of_sale_file(
            seller=world.owner, sale_id=sale.pk, handed_over_on=today + dt.timedelta(days=1)
        )
    sales.notice_of_sale_file(seller=world.owner, sale_id=sale.pk, handed_over_on=today)
    with pytest.raises(Conflict, match="already filed"):
        sales.notice_of_sale_file(seller=world.owner, sale_id=sale.pk, handed_over_on=today)
    with pytest.raises(PermissionDenied):
        sales.notice_of_sale_file(seller=world.other_owner, sale_id=sale.pk, handed_over_on=today)

    sale.refresh_from_db()
    assert sale.notice_of_sale_on == today


def test_an_owner_can_no_longer_file_a_transfer_alone(world):
    vehicle = registered(world)
    before = rows()

    with pytest.raises(ValidationError, match="starts with the seller"):
        registry_services.application_create(
            applicant=world.owner, vehicle_id=vehicle.pk, type="transfer"
        )

    assert rows() == before


def test_the_sale_page_shows_a_refusal_with_its_status_and_changes_nothing(world, client):
    sale = offered(world)
    client.force_login(world.owner)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    future = client.post(reverse("sale-notice", args=[sale.pk]), {"handed_over_on": tomorrow})
    early_deed = client.post(
        reverse("sale-deed", args=[sale.pk]), {"file": SimpleUploadedFile("deed.pdf", PDF)}
    )
    client.force_login(world.other_owner)
    not_theirs = client.get(reverse("sale-detail", args=[sale.pk]))

    assert future.status_code == 422 and "cannot be in the future" in future.content.decode()
    assert early_deed.status_code == 409
    assert "once the buyer has accepted" in early_deed.content.decode()
    assert not_theirs.status_code == 404
    sale.refresh_from_db()
    # (The vehicle keeps the papers of its first registration.)
    assert sale.notice_filed_at is None
    assert not Document.objects.filter(doc_type="deed_of_sale").exists()


def test_the_lto_sees_the_seller_and_the_notice_of_sale_on_the_transfer_application(world, client):
    sale = offered(world)
    sale = sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))
    sales.notice_of_sale_file(
        seller=world.owner, sale_id=sale.pk, handed_over_on=timezone.localdate()
    )
    client.force_login(world.lto_admin)

    page = client.get(reverse("application-detail", args=[sale.application_id])).content.decode()

    assert world.owner.get_full_name() in page
    assert f"handed over on {timezone.localdate():%d %b %Y}" in page
    assert "Still missing: Deed of sale, Government ID, Insurance certificate of cover" in page
