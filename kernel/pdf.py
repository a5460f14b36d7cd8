"""Fonts for the PDFs Talaan prints (reportlab), and amounts written with them.

reportlab's standard fonts (Helvetica) have no peso sign, so a PDF embeds DejaVu Sans when
the system has it (Debian's fonts-dejavu-core, in the image too) and writes ₱1,600.00; without
it, Helvetica and PHP 1,600.00, so a missing font never stops a receipt.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kernel.i18n import pesos, pesos_for_sms

FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
_FACES = {
    "TalaanSans": "DejaVuSans.ttf",
    "TalaanSans-Bold": "DejaVuSans-Bold.ttf",
    "TalaanSans-Oblique": "DejaVuSans-Oblique.ttf",
}


@dataclass(frozen=True)
class PdfFonts:
    regular: str
    bold: str
    oblique: str
    has_peso_sign: bool

    def amount(self, centavos: int) -> str:
        """₱1,600.00 where the font draws ₱, else PHP 1,600.00."""
        return pesos(centavos) if self.has_peso_sign else pesos_for_sms(centavos)


_STANDARD = PdfFonts("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", has_peso_sign=False)


def _find(filename: str) -> Path | None:
    for directory in FONT_DIRECTORIES:
        if (directory / filename).is_file():
            return directory / filename
    return None


@functools.cache
def pdf_fonts() -> PdfFonts:
    """The fonts to draw with, registered with reportlab once per process."""
    found = {name: _find(filename) for name, filename in _FACES.items()}
    if any(path is None for path in found.values()):
        return _STANDARD
    for name, path in found.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return PdfFonts("TalaanSans", "TalaanSans-Bold", "TalaanSans-Oblique", has_peso_sign=True)
