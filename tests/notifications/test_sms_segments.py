"""Every text message Talaan sends stays in the GSM-7 alphabet, in English and in Filipino.

A text message is a notification's title and its link (notifications.senders). Titles are
marked ``pgettext("sms", ...)``; this reads every such entry of every app's Filipino catalogue,
fills its placeholders with long but realistic values and counts the segments: one character
outside GSM-7 (₱, "…", a curly quote, an accented vowel other than é, è, ù, ì, ò, à) turns the
whole message into UCS-2, 70 characters a segment instead of 160.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from django.utils import translation

from kernel.i18n import pesos, pesos_for_sms
from kernel.refusals import STATUSES
from notifications.senders import SMS_MAX_LENGTH, send_text_message

ROOT = Path(__file__).resolve().parents[2]

# GSM 03.38: the basic alphabet (one septet each) and the extension table (two septets each).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"

# Placeholders as long as they get in practice (a plate, a reference, an organisation).
SAMPLES = {
    "reference": "APP-2026-00012345",
    "plate": "ABC 1234",
    "number": "OR-NCR01-2026-0001234",
    "vehicle": "2024 Mitsubishi Montero Sport (ABC 1234)",
    "subject": "2024 Mitsubishi Montero Sport (ABC 1234)",
    "owner": "2024 Mitsubishi Montero Sport (ABC 1234)",
    "kind": "INSURANCE",
    "decision": "approved",
    "status": "awaiting clearances",
    "days": 30,
    "lender": "Bank of the Philippine Islands Auto Loans",
}
LINK = "https://talaan.lto.gov.ph/applications/1234567/"


def septets(text: str) -> int:
    """The text's length in GSM-7 septets; ValueError at the first character outside it."""
    count = 0
    for character in text:
        if character in GSM7_BASIC:
            count += 1
        elif character in GSM7_EXTENSION:
            count += 2
        else:
            raise ValueError(f"{character!r} (U+{ord(character):04X}) is not in GSM-7")
    return count


def segments(text: str) -> int:
    length = septets(text)
    return 1 if length <= 160 else math.ceil(length / 153)


def _strings(lines: list[str], start: int) -> tuple[str, int]:
    value = json.loads(lines[start].split(" ", 1)[1])
    end = start + 1
    while end < len(lines) and lines[end].startswith('"'):
        value += json.loads(lines[end])
        end += 1
    return value, end


def sms_entries() -> list[tuple[str, str, str]]:
    """(catalogue, English, Filipino) for every form of every entry marked "sms"."""
    found = []
    for catalogue in sorted(ROOT.glob("*/locale/fil/LC_MESSAGES/django.po")):
        for block in catalogue.read_text(encoding="utf-8").split("\n\n"):
            lines = [line for line in block.splitlines() if not line.startswith("#")]
            if not lines or lines[0] != 'msgctxt "sms"':
                continue
            fields: dict[str, str] = {}
            index = 1
            while index < len(lines):
                key = lines[index].split(" ", 1)[0]
                fields[key], index = _strings(lines, index)
            if "msgid_plural" in fields:
                forms = [
                    (fields["msgid"], fields["msgstr[0]"]),
                    (fields["msgid_plural"], fields["msgstr[1]"]),
                ]
            else:
                forms = [(fields["msgid"], fields.get("msgstr", ""))]
            found.extend((catalogue.parts[-5], source, translated) for source, translated in forms)
    return found


def filled(template: str) -> str:
    names = re.findall(r"%\((\w+)\)s", template)
    return template % {name: SAMPLES.get(name, "X" * 24) for name in names}


ENTRIES = sms_entries()


def test_the_catalogues_mark_the_text_messages():
    # Every notification title is a text message; there are a few dozen of them.
    assert len(ENTRIES) >= 30
    assert {app for app, _english, _filipino in ENTRIES} >= {"registry", "clearance", "payments"}


@pytest.mark.parametrize(("app", "english", "filipino"), ENTRIES, ids=lambda v: str(v)[:40])
def test_every_text_message_is_gsm7_and_fits_two_segments(app, english, filipino):
    assert filipino, f"{app}: {english!r} has no Filipino"
    for language, template in (("en", english), ("fil", filipino)):
        text = f"{filled(template)} {LINK}"
        try:
            count = segments(text)
        except ValueError as exc:
            pytest.fail(f"{app} ({language}) {template!r}: {exc}; it would be sent as UCS-2")
        assert count <= SMS_MAX_LENGTH // 153, f"{language}: {text!r} is {count} segments"


def test_the_words_put_into_text_messages_are_gsm7_in_filipino():
    # Statuses and decisions are filled into titles ("%(decision)s ang ... clearance").
    with translation.override("fil"):
        words = [str(word) for word in STATUSES.values()]
    assert "aprubado" in words
    for word in words:
        septets(word)


def test_amounts_in_text_messages_are_written_php():
    assert pesos_for_sms(123400) == "PHP 1,234.00"
    assert segments(pesos_for_sms(123400)) == 1
    with pytest.raises(ValueError, match="U\\+20B1"):
        septets(pesos(123400))  # ₱: the reason text messages say PHP


def test_a_long_title_is_cut_without_leaving_gsm7(monkeypatch):
    sent = []
    monkeypatch.setattr("notifications.senders.send_sms", lambda *, to, text: sent.append(text))

    class Long:
        title = "Pasado na sa mga clearance ang " + "APP-2026-00012345 " * 30
        link = "/applications/1/"

    send_text_message(Long(), "+639171234567")  # type: ignore[arg-type]

    assert len(sent[0]) <= SMS_MAX_LENGTH
    assert segments(sent[0]) <= 2
