"""A transfer of ownership in the browser, seller and buyer each in a browser of their own.

The seller starts a sale from the vehicle's page and files the notice of sale; the buyer
opens the link the worker e-mailed, accepts, and adds their papers; the seller adds the deed
of sale; HPG and the insurer approve; the LTO approves the transfer. Then the seller's
certificate is superseded (and /verify/ says so) and the buyer's is valid. Only the people and
the vehicle's first registration are set up directly.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.models import Certificate, Sale
from tests.browser.conftest import screenshot, wait_until
from tests.browser.test_journey import claim, open_request, post, record_decision, tiny_pdf
from tests.paying import pay_in_full
from tests.registry import vc_verifier
from tests.transfers import registered


@pytest.mark.django_db(transaction=True)
def test_a_seller_and_a_buyer_transfer_a_vehicle_and_the_old_certificate_is_superseded(
    world, new_page, celery_worker, live_server, live_env, tmp_path
):
    vehicle = registered(world)
    seller_cr = Certificate.objects.get(vehicle=vehicle)
    papers = {}
    for name in ("deed", "id", "coc"):
        papers[name] = tmp_path / f"{name}.pdf"
        papers[name].write_bytes(tiny_pdf(name))

    # The seller starts the sale from the vehicle's ownership page and files the notice.
    seller = new_page(user="owner.juan")
    seller.goto("/")
    seller.get_by_role("link", name=f"{vehicle.year} {vehicle.make} {vehicle.model}").click()
    expect(seller.get_by_role("heading", level=1)).to_contain_text("Ownership of")
    seller.get_by_role("link", name="Sell this vehicle").click()
    seller.get_by_label("Buyer's e-mail address").fill(world.other_owner.email)
    post(seller, seller.get_by_role("button", name="Start the sale"))
    expect(seller.get_by_test_id("sale-status")).to_have_text("Awaiting the buyer")
    sale_path = urlsplit(seller.url).path
    seller.get_by_label("Handed over on").fill(f"{timezone.localdate():%Y-%m-%d}")
    post(seller, seller.get_by_role("button", name="File the notice of sale"))
    expect(seller.get_by_test_id("notice")).to_contain_text("Filed: handed over on")
    screenshot(seller, "sale-seller")

    # The worker e-mails the buyer a link; the buyer opens it signed in, and accepts.
    def invitation() -> str | None:
        for message in live_env.sent_mail():
            if f"To: {world.other_owner.email}" in message and "/sales/answer/" in message:
                return re.search(r"https?://\S+/sales/answer/\S+/", message).group(0)
        return None

    wait_until(invitation, timeout=20, what="the buyer's invitation e-mail")
    buyer = new_page(user="owner.maria")
    buyer.goto(urlsplit(invitation()).path)
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("is selling you a vehicle")
    expect(buyer.get_by_role("main")).to_contain_text(vehicle.plate_number)
    screenshot(buyer, "sale-buyer")
    post(buyer, buyer.get_by_role("button", name="Accept and file the transfer"))
    expect(buyer).to_have_url(re.compile(r"/applications/\d+/$"))
    reference = buyer.locator("#application-live h1").inner_text().split()[0]
    for doc_type, paper in (("government_id", papers["id"]), ("insurance_coc", papers["coc"])):
        buyer.locator("#id_doc_type").select_option(doc_type)
        buyer.locator("#id_file").set_input_files(paper)
        post(buyer, buyer.get_by_role("button", name="Upload document"))

    # Without the seller's deed the buyer cannot file yet; the seller adds it.
    buyer.get_by_role("button", name="Submit to the LTO").click()
    expect(buyer.get_by_role("main")).to_contain_text(
        "Still missing: Deed of sale (the seller uploads it)"
    )
    seller.goto(sale_path)
    seller.get_by_label("Deed of sale (notarised)").set_input_files(papers["deed"])
    post(seller, seller.get_by_role("button", name="Add the deed of sale"))
    expect(seller.get_by_role("main")).to_contain_text("deed.pdf added")
    buyer.goto(f"/applications/{Sale.objects.get().application_id}/")
    post(buyer, buyer.get_by_role("button", name="Submit to the LTO"))
    expect(buyer.get_by_test_id("application-status")).to_have_text("Submitted")

    # The LTO sends it to HPG and the insurer (what a transfer needs); both approve.
    lto = new_page(user="lto.admin")
    lto.goto(urlsplit(buyer.url).path)
    post(lto, lto.get_by_role("button", name="Start review"))
    post(lto, lto.get_by_role("button", name=re.compile(r"^Send to ")))
    expect(lto.get_by_test_id("application-status")).to_have_text("Awaiting clearances")
    hpg = new_page(user="hpg.officer")
    open_request(hpg, "HPG", reference)
    claim(hpg)
    hpg.locator("#id_engine_number_checked").fill(vehicle.engine_number)
    hpg.locator("#id_chassis_number_checked").fill(vehicle.chassis_number)
    hpg.locator("#id_macro_etching_result").select_option("match")
    hpg.locator("#id_stolen_vehicle_check").select_option("clear")
    hpg.locator("#id_certificate_number").fill("HPG-MVC-2026-00917")
    record_decision(hpg, "approved")
    insurer = new_page(user="insurer.officer")
    open_request(insurer, "Insurance", reference)
    claim(insurer)
    insurer.locator("#id_coc_number").fill("COC-77120001")
    record_decision(insurer, "approved")
    # The buyer pays the fees (the sandbox, through the services; the browser's Pay button
    # is test_payment_sandbox's): the LTO approves only a paid application.
    pay_in_full(Sale.objects.get().application)
    lto.reload()
    expect(lto.get_by_test_id("application-status")).to_have_text("Cleared")
    post(lto, lto.get_by_role("button", name="Approve registration"))
    expect(lto.get_by_test_id("application-status")).to_have_text("Approved")

    # The seller's certificate is superseded, and anyone can see it; the buyer's is valid.
    buyer_cr = Certificate.objects.get(vehicle=vehicle, status=Certificate.Status.VALID)
    assert buyer_cr.owner_id == world.other_owner.pk
    anyone = new_page()
    anyone.goto(f"/verify/?q={seller_cr.number}")
    expect(anyone.get_by_test_id("verdict")).to_contain_text(
        f"Certificate {seller_cr.number} was replaced on"
    )
    anyone.goto(f"/verify/?q={buyer_cr.number}")
    expect(anyone.get_by_test_id("verdict")).to_contain_text(
        f"✔ Registered: certificate {buyer_cr.number} is valid"
    )
    seller.goto(sale_path)
    expect(seller.get_by_test_id("sale-status")).to_have_text("Completed: ownership transferred")

    # The buyer's CR downloads as a verifiable credential that npm's jose verifies; the
    # seller's, from the first registration's page, now fails on its status bit.
    buyer.goto(f"/applications/{Sale.objects.get().application_id}/")
    with buyer.expect_download() as download:
        buyer.get_by_role("link", name="Download credential (VC)").click()
    buyers = vc_verifier.verify(live_server.url, Path(download.value.path()))
    assert buyers["ok"] and buyers["subject"]["certificateNumber"] == buyer_cr.number, buyers
    seller.goto(f"/applications/{seller_cr.application_id}/")
    with seller.expect_download() as download:
        seller.get_by_role("link", name="Download credential (VC)").click()
    sellers = vc_verifier.verify(live_server.url, Path(download.value.path()))
    assert not sellers["ok"] and sellers["step"] == "status", sellers
