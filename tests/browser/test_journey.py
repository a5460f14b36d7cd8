"""The whole journey of a new registration, each person in a browser of their own.

The owner registers a vehicle, files and submits an application with a document; the LTO
sends it to HPG, the insurer and the emission testing centre; the emission officer returns it
once, the owner corrects it, and every organisation approves; the LTO approves the
registration; the owner downloads the certificate, and anyone can check it against the ledger.
Every step goes through the pages; only the people (``world``) are set up directly.

The owner's application page stays open while the others act: each change must reach it live,
without a reload, within LIVE_DEADLINE of the response that made it.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from notifications.models import Notification
from registry.models import RegistrationApplication, Vehicle
from tests.browser.conftest import screenshot, track_live, wait_for_live, wait_until
from tests.factories import random_vin
from tests.paying import pay_in_full

# How soon an open page must show a change someone else made, in milliseconds.
LIVE_DEADLINE = 2_000


def tiny_pdf(text: str) -> bytes:
    """A small, valid one-page PDF showing ``text`` (with a correct cross-reference table)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def pdf_page_text(pdf: bytes) -> bytes:
    """The decoded content of every stream in ``pdf`` (ReportLab writes ASCII85 + Flate)."""
    decoded = []
    for match in re.finditer(rb"(?<!end)stream\r?\n", pdf):
        header = pdf[pdf.rfind(b" obj", 0, match.start()) : match.start()]
        data = pdf[match.end() : pdf.index(b"endstream", match.end())]
        for name in re.findall(rb"/(ASCII85Decode|FlateDecode)", header):
            if name == b"ASCII85Decode":
                data = base64.a85decode(data.strip(), adobe=True)
            else:
                # A decompressor ignores the line break that may follow the data.
                data = zlib.decompressobj().decompress(data)
        decoded.append(data)
    return b"\n".join(decoded)


def post(page: Page, button: Locator) -> Response:
    """Click a form's button; return the server's answer to the POST, which must redirect."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        button.click()
    response = answer.value
    if response.status != 302:
        alerts = " / ".join(page.get_by_role("alert").all_inner_texts())
        raise AssertionError(
            f"POST {urlsplit(response.url).path} answered {response.status}, not a redirect. "
            f"The page says: {alerts or '(no alert)'}"
        )
    return response


def watch(page: Page) -> None:
    """Wait until the page's live stream is open, and mark the document to tell a reload."""
    wait_for_live(page)
    page.evaluate("window.__watched = true")


def expect_live(locator: Locator, text: str, latencies: dict[str, float], what: str) -> None:
    """Within LIVE_DEADLINE from now (a response just arrived), ``locator`` shows ``text``,
    on the document `watch` marked: the page was updated in place, not reloaded."""
    started = time.monotonic()
    expect(locator).to_have_text(text, timeout=LIVE_DEADLINE)
    latencies[what] = time.monotonic() - started
    assert locator.page.evaluate("window.__watched === true"), f"{what}: the page was reloaded"


def open_request(officer: Page, kind_label: str, reference: str) -> None:
    """From the officer's queue, open their organisation's request for ``reference``."""
    officer.goto("/queue/")
    row = officer.get_by_role("row").filter(has_text=reference)
    row.get_by_role("link", name=re.compile(rf"^{kind_label} #\d+$")).click()
    expect(officer.get_by_role("heading", level=1)).to_contain_text(f"{kind_label} clearance")


def claim(officer: Page) -> None:
    post(officer, officer.get_by_role("button", name="Claim this request"))
    expect(officer.get_by_test_id("clearance-status")).to_have_text("In review")


def record_decision(officer: Page, decision: str, remarks: str = "") -> Response:
    if remarks:
        officer.locator("#id_remarks").fill(remarks)
    officer.locator(f"input[name=decision][value={decision}]").check()
    return post(officer, officer.get_by_role("button", name="Record decision on the ledger"))


def type_emission_readings(officer: Page, *, co_percent: str, hc_ppm: str) -> None:
    officer.locator("#id_hc_ppm").fill(hc_ppm)
    co = officer.locator("#id_co_percent")
    co.clear()
    co.press_sequentially(co_percent, delay=50)


def expect_verified_timelines(page: Page, lines_expected: int) -> None:
    """Each line of each clearance's timeline shows its ledger receipt, checked."""
    lines = page.locator("#application-live .clearance .timeline > li")
    expect(lines).to_have_count(lines_expected)
    for line in lines.all():
        expect(line.locator(".receipt")).to_contain_text("✔ verified")


@pytest.mark.django_db(transaction=True)
def test_a_new_registration_goes_live_from_owner_to_verified_certificate(
    world, new_page, celery_worker, live_server, live_env, tmp_path
):
    latencies: dict[str, float] = {}
    vin = random_vin()
    engine_number = f"2NR{uuid.uuid4().hex[:8].upper()}"
    chassis_number = f"MHF{uuid.uuid4().hex[:10].upper()}"
    invoice = tmp_path / "sales-invoice.pdf"
    invoice.write_bytes(tiny_pdf("Sales invoice"))
    corrected = tmp_path / "sales-invoice-clear-scan.pdf"
    corrected.write_bytes(tiny_pdf("Sales invoice, clear scan"))

    # The owner registers a vehicle and files a new registration with a document.
    owner = new_page(user="owner.juan")
    track_live(owner)
    owner.goto("/vehicles/new/")
    owner.locator("#id_vin").fill(vin)
    owner.locator("#id_engine_number").fill(engine_number)
    owner.locator("#id_chassis_number").fill(chassis_number)
    owner.locator("#id_make").fill("Toyota")
    owner.locator("#id_model").fill("Vios")
    owner.locator("#id_year").fill("2025")
    owner.locator("#id_body_type").select_option("sedan")
    owner.locator("#id_colour").fill("Red Mica")
    owner.locator("#id_fuel").select_option("gasoline")
    owner.locator("#id_classification").select_option("private")
    post(owner, owner.get_by_role("button", name="Register vehicle"))
    expect(owner).to_have_url(f"{live_server.url}/")
    expect(owner.get_by_role("cell", name=vin)).to_be_visible()

    owner.goto("/applications/new/")
    vehicle = Vehicle.objects.get(vin=vin, owner=world.owner)
    owner.locator("#id_vehicle").select_option(str(vehicle.pk))
    owner.locator("#id_type").select_option("new")
    post(owner, owner.get_by_role("button", name="Create application"))
    expect(owner).to_have_url(re.compile(r"/applications/\d+/$"))
    application_path = urlsplit(owner.url).path
    reference = owner.locator("#application-live h1").inner_text().split()[0]

    owner.locator("#id_doc_type").select_option("sales_invoice")
    owner.locator("#id_file").set_input_files(invoice)
    post(owner, owner.get_by_role("button", name="Upload document"))
    uploaded = owner.locator(".documents li").filter(has_text="Sales invoice")
    expect(uploaded).to_contain_text("verified on the ledger")
    # The viewer checks the file against its ledger anchor again and shows it inline.
    uploaded.get_by_role("link", name="Sales invoice").click()
    expect(owner.locator("[data-integrity]")).to_have_attribute("data-integrity", "verified")
    expect(owner.get_by_role("status")).to_contain_text("Integrity verified")
    frame = owner.locator("iframe.pdf-viewer")
    expect(frame).to_be_visible()
    served = owner.request.get(frame.get_attribute("src"))
    assert served.status == 200
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("inline")
    assert served.body() == invoice.read_bytes()
    screenshot(owner, "document-viewer")
    owner.goto(application_path)

    # The checklist says what is still missing, and a submit without it is refused, naming it.
    checklist = owner.get_by_test_id("checklist")
    expect(checklist.locator("[data-status=missing]")).to_have_count(2)
    with owner.expect_response(lambda response: response.request.method == "POST") as refused:
        owner.get_by_role("button", name="Submit to the LTO").click()
    assert refused.value.status == 422
    refusal = "Still missing: Certificate of stock reported and Insurance certificate of cover"
    expect(owner.get_by_role("alert").filter(has_text=refusal)).to_be_visible()
    expect(owner.get_by_test_id("application-status")).to_have_text("Draft")
    for doc_type, title in (("csr", "Certificate of stock reported"), ("insurance_coc", "CTPL")):
        paper = tmp_path / f"{doc_type}.pdf"
        paper.write_bytes(tiny_pdf(title))
        owner.locator("#id_doc_type").select_option(doc_type)
        owner.locator("#id_file").set_input_files(paper)
        post(owner, owner.get_by_role("button", name="Upload document"))
    expect(checklist.locator("[data-status=missing]")).to_have_count(0)

    post(owner, owner.get_by_role("button", name="Submit to the LTO"))
    status = owner.get_by_test_id("application-status")
    expect(status).to_have_text("Submitted")
    watch(owner)

    # The LTO admin finds it, reviews it and sends it to the three organisations.
    lto = new_page(user="lto.admin")
    lto.goto("/lto/applications/")
    lto.locator("#id_q").fill(reference)
    lto.locator("#id_q").press("Enter")
    rows = lto.locator("#lto-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(world.owner.get_full_name())
    screenshot(lto, "lto-queue")
    rows.first.get_by_role("link", name=reference).click()
    expect(lto).to_have_url(f"{live_server.url}{application_path}")
    post(lto, lto.get_by_role("button", name="Start review"))
    expect(lto.get_by_test_id("application-status")).to_have_text("Under review")
    expect(status).to_have_text("Under review")
    post(lto, lto.get_by_role("button", name=re.compile(r"^Send to ")))
    expect(lto.get_by_test_id("application-status")).to_have_text("Awaiting clearances")
    expect(status).to_have_text("Awaiting clearances")
    badges = {
        kind: owner.get_by_test_id(f"clearance-{kind}-status")
        for kind in ("HPG", "INSURANCE", "EMISSION")
    }
    for badge in badges.values():
        expect(badge).to_have_text("Pending")

    # The emission officer claims it, watches the limit check while typing, and returns it.
    emission = new_page(user="emission.officer")
    open_request(emission, "Emission", reference)
    claim(emission)
    expect(badges["EMISSION"]).to_have_text("In review")
    emission.locator("#id_certificate_number").fill("ETC-2025-000117")
    verdict = emission.get_by_test_id("emission-verdict")
    type_emission_readings(emission, co_percent="5.0", hc_ppm="150")
    expect(verdict).to_have_text(re.compile(r"^Fails the limits: "))
    co_line = emission.get_by_test_id("emission-check").locator("li").first
    expect(co_line).to_contain_text("CO limit 4.50 %")
    expect(co_line).to_have_class("fail")
    type_emission_readings(emission, co_percent="0.8", hc_ppm="150")
    expect(verdict).to_have_text("Passes the limits.")
    screenshot(emission, "officer-decision")
    returned = record_decision(
        emission, "returned", remarks="The sales invoice scan is unreadable; upload a clear copy."
    )
    expect_live(status, "Returned", latencies, "application returned")
    assert urlsplit(returned.url).path.endswith("/decide/")
    expect(badges["EMISSION"]).to_have_text("Returned")
    expect(emission.get_by_test_id("clearance-status")).to_have_text("Returned")

    # The owner adds a corrected document and resubmits.
    owner.locator("#id_doc_type").select_option("sales_invoice")
    owner.locator("#id_file").set_input_files(corrected)
    post(owner, owner.get_by_role("button", name="Upload document"))
    expect(owner.locator(".documents li")).to_have_count(4)
    expect(owner.get_by_text("The application was returned for corrections")).to_contain_text(
        "unreadable"
    )
    owner.locator("#id_note").fill("Uploaded a clear scan of the sales invoice.")
    post(owner, owner.get_by_role("button", name="Resubmit with corrections"))
    expect(status).to_have_text("Awaiting clearances")
    expect(badges["EMISSION"]).to_have_text("Pending")
    watch(owner)

    # Each organisation approves; the owner's open page follows every change live.
    open_request(emission, "Emission", reference)
    claim(emission)
    emission.locator("#id_certificate_number").fill("ETC-2025-000131")
    type_emission_readings(emission, co_percent="0.6", hc_ppm="120")
    expect(verdict).to_have_text("Passes the limits.")
    record_decision(emission, "approved")
    expect_live(badges["EMISSION"], "Approved", latencies, "emission approved")

    hpg = new_page(user="hpg.officer")
    hpg.goto("/queue/")
    expect(hpg.get_by_role("row").filter(has_text=reference)).to_contain_text("Pending")
    screenshot(hpg, "officer-queue")
    open_request(hpg, "HPG", reference)
    claim(hpg)
    facts = hpg.locator("dl.facts")
    shown_engine = facts.locator("dt:text-is('Engine number') + dd code").inner_text()
    shown_chassis = facts.locator("dt:text-is('Chassis number') + dd code").inner_text()
    assert (shown_engine, shown_chassis) == (engine_number, chassis_number)
    hpg.locator("#id_engine_number_checked").fill(shown_engine)
    hpg.locator("#id_chassis_number_checked").fill(shown_chassis)
    hpg.locator("#id_macro_etching_result").select_option("match")
    hpg.locator("#id_stolen_vehicle_check").select_option("clear")
    hpg.locator("#id_certificate_number").fill("HPG-MVC-2025-04417")
    record_decision(hpg, "approved")
    expect_live(badges["HPG"], "Approved", latencies, "HPG approved")
    expect(status).to_have_text("Awaiting clearances")

    insurer = new_page(user="insurer.officer")
    open_request(insurer, "Insurance", reference)
    claim(insurer)
    expect(insurer.locator("#id_coverage_start")).not_to_have_value("")
    expect(insurer.locator("#id_coverage_end")).not_to_have_value("")
    insurer.locator("#id_coc_number").fill("COC-88120045")
    record_decision(insurer, "approved")
    expect_live(badges["INSURANCE"], "Approved", latencies, "insurance approved")
    expect_live(status, "Cleared", latencies, "application cleared")
    # Emission: pending, in review, returned, pending, in review, approved; the others three.
    expect_verified_timelines(owner, 6 + 3 + 3)
    unread = Notification.objects.filter(recipient=world.owner, read_at__isnull=True).count()
    assert unread > 0
    expect(owner.locator("[data-bell-count]")).to_have_text(str(unread))

    # The owner has paid the fees (the sandbox, through the services; the browser's Pay
    # button is test_payment_sandbox's): the LTO approves only a paid application.
    pay_in_full(RegistrationApplication.objects.get(reference=reference))
    # The LTO admin approves the registration; the next plate of the series is issued.
    lto.reload()
    expect(lto.get_by_test_id("application-status")).to_have_text("Cleared")
    screenshot(lto, "lto-application")
    approved = post(lto, lto.get_by_role("button", name="Approve registration"))
    expect_live(status, "Approved", latencies, "registration approved")
    assert urlsplit(approved.url).path.endswith("/approve/")
    expect(lto.get_by_test_id("application-status")).to_have_text("Approved")
    vehicle.refresh_from_db()
    assert vehicle.plate_number and vehicle.mv_file_number

    # The owner downloads the certificate; its verify address works for anyone.
    owner.reload()
    expect_verified_timelines(owner, 6 + 3 + 3)
    history = owner.locator("#application-live .card:has(h2:text-is('Application history')) li")
    expect(history.last).to_contain_text("Registration approved")
    expect(history.last.locator(".receipt")).to_contain_text("✔ verified")
    screenshot(owner, "owner-application")
    with owner.expect_download() as download:
        owner.get_by_role("link", name="Download certificate (PDF)").click()
    assert download.value.suggested_filename == f"certificate-{reference}.pdf"
    certificate = Path(download.value.path()).read_bytes()
    assert certificate.startswith(b"%PDF-")
    printed = re.findall(rb"\((https?://[^()\\]+)\)\s*Tj", pdf_page_text(certificate))
    verify_urls = [url.decode() for url in printed if b"/verify/" in url]
    assert verify_urls == [f"{live_server.url}/verify/{reference}"]

    anyone = new_page()
    anyone.goto(verify_urls[0])
    expect(anyone.get_by_test_id("verdict")).to_contain_text("✔ Registered: certificate CR-")
    expect(anyone.get_by_test_id("ledger-check")).to_have_text("✔ These records match the ledger.")
    expect(anyone.get_by_role("main")).to_contain_text(vehicle.plate_number)
    shown = anyone.content()
    personal = [
        world.owner.get_full_name(),
        world.owner.username,
        world.owner.email,
        vin,
        engine_number,
        chassis_number,
    ]
    assert [value for value in personal if value in shown] == []
    screenshot(anyone, "public-verify")

    # Every role's main page, as it looks at the end.
    owner.goto("/")
    expect(owner.get_by_role("heading", name="My applications")).to_be_visible()
    expect(owner.locator("#my-applications")).to_contain_text("Approved")
    screenshot(owner, "owner-home")
    owner.goto("/notifications/")
    expect(owner.locator(".notifications li").first).to_be_visible()
    screenshot(owner, "notifications")
    hpg_admin = new_page(user="hpg.admin")
    hpg_admin.goto("/organisation/")
    expect(hpg_admin.get_by_role("cell", name="hpg.officer", exact=True)).to_be_visible()
    screenshot(hpg_admin, "org-admin")

    # The owner was also told by e-mail, through the worker.
    def mail_to_owner(about: str) -> list[str]:
        return [
            message
            for message in live_env.sent_mail()
            if f"To: {world.owner.email}" in message and about in message
        ]

    wait_until(
        lambda: mail_to_owner(f"Emission clearance returned for {reference}"),
        timeout=15,
        what="the owner's e-mail that the emission clearance was returned",
    )
    wait_until(
        lambda: mail_to_owner(f"Registration approved: plate {vehicle.plate_number}"),
        timeout=15,
        what="the owner's e-mail that the registration was approved",
    )
    print("live latencies (s):", {what: round(took, 3) for what, took in latencies.items()})
