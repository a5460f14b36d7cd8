"""SMS through a small pluggable backend, chosen by ``settings.SMS_BACKEND``.

Backends mirror Django's email backends: ``FileBackend`` (the default without a gateway)
writes each message under ``var/sms/``, ``ConsoleBackend`` prints it, and
``HttpGatewayBackend`` posts it to an SMS gateway. Settings are read when a message is sent,
never at import time.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The message was not handed over; sending it again later may work."""


class BaseSmsBackend:
    """Send one text message to one E.164 number, or raise ``SmsError``."""

    def send(self, *, to: str, text: str) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str) -> None:
        self.stream.write(f"SMS to {to}: {text}\n")
        self.stream.flush()


class FileBackend(BaseSmsBackend):
    """Append each message as one JSON line to a file per day under ``SMS_FILE_PATH``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory or settings.SMS_FILE_PATH)

    def send(self, *, to: str, text: str) -> None:
        now = timezone.localtime()
        line = json.dumps({"at": now.isoformat(), "to": to, "text": text}, ensure_ascii=False)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with (self.directory / f"{now:%Y-%m-%d}.jsonl").open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise SmsError(f"Could not write the message to {self.directory}: {exc}") from exc


class HttpGatewayBackend(BaseSmsBackend):
    """POST ``{"to", "from", "text"}`` as JSON with a bearer token to ``SMS_GATEWAY_URL``.

    Any 2xx answer means the gateway accepted the message; anything else is an ``SmsError``
    so the delivery is retried.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = url or settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.sender = sender if sender is not None else settings.SMS_SENDER
        self.timeout = timeout or settings.SMS_GATEWAY_TIMEOUT
        # urllib also opens file:// and ftp:// addresses; a gateway is only ever HTTP(S).
        if urlsplit(self.url).scheme not in {"http", "https"}:
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http:// or https:// URL.")

    def send(self, *, to: str, text: str) -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"to": to, "from": self.sender, "text": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode(errors="replace")
            raise SmsError(f"SMS gateway answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"SMS gateway unreachable: {exc}") from exc


def normalise_mobile_number(number: str) -> str:
    """Write a Philippine mobile number in E.164 (0917 123 4567 -> +639171234567)."""
    compact = re.sub(r"[\s().-]", "", number)
    if re.fullmatch(r"09\d{9}", compact):
        return "+63" + compact[1:]
    if re.fullmatch(r"639\d{9}", compact):
        return "+" + compact
    return compact


# A Philippine mobile number: 09XX XXX XXXX, +63 9XX XXX XXXX or 63 9XX..., with any spaces,
# dashes, dots or brackets between the digits.
_PH_MOBILE = re.compile(r"(?:\+63|63|0)(9\d{9})")


def parse_philippine_mobile(number: str) -> str:
    """The number in E.164 (+639171234567), or ValueError if it is not a Philippine mobile."""
    match = _PH_MOBILE.fullmatch(re.sub(r"[\s().-]", "", number))
    if match is None:
        raise ValueError(number)
    return "+63" + match.group(1)


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, text: str) -> None:
    """Send one message through the configured backend; raises ``SmsError`` on failure."""
    get_backend().send(to=normalise_mobile_number(to), text=text)
