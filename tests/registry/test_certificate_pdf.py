"""The certificate PDF looks like the LTO's Certificate of Registration (issue 19, item 10):
the office's header, owner / vehicle / registration sections, the ledger transaction whole
(wrapped, not cut at 80 characters) and a QR code of the public verification address."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import qrcode
from PIL import Image, ImageChops
from pypdf import PdfReader
from qrcode.image.pil import PilImage

from ledger.models import LedgerEntry
from registry.certificate import registration_change, render_certificate
from tests.conftest import registered_application

VERIFY = "https://talaan.example/verify/TLN-0123456789ABCDEF/"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "certificate"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_certificate_has_the_office_header_sections_and_the_whole_ledger_transaction(
    world, settings
):
    settings.OFFICE_NAME = "Land Transportation Office"
    application = registered_application(world, plate="NBC 1234")
    change = registration_change(application)
    # A Fabric transaction id is 64 hex digits; make it long enough that cutting would show.
    long_tx = "f" * 32 + "0123456789abcdef" * 4
    type(change).objects.filter(pk=change.pk).update(ledger_tx_id=long_tx)

    pdf = render_certificate(application, VERIFY)
    text = _text(pdf)
    compact = re.sub(r"\s+", "", text)

    assert "Republic of the Philippines" in text
    assert "LAND TRANSPORTATION OFFICE" in text
    assert "CERTIFICATE OF REGISTRATION" in text
    for section in ("OWNER", "VEHICLE", "REGISTRATION"):
        assert section in text
    assert application.certificates.get().number in text
    assert long_tx in compact, "the ledger transaction id is cut"
    assert VERIFY in compact
    assert "NBC 1234" in text and application.vehicle.vin in text
    assert LedgerEntry.objects.exists()

    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-singlefile", SHOTS / "certificate.pdf", SHOTS / "page"],
        check=False,
    )


def test_the_certificate_s_qr_code_is_the_public_verification_address(world):
    application = registered_application(world)

    pdf = render_certificate(application, VERIFY)

    images = [image.image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 1
    expected = qrcode.make(VERIFY, box_size=6, border=2, image_factory=PilImage).get_image()
    drawn = images[0].convert("1").resize(expected.size, Image.NEAREST)
    assert ImageChops.difference(drawn, expected.convert("1")).getbbox() is None
