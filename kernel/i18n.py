"""Language helpers shared by every app: a message rendered later in someone else's language,
the recipient's language, and amounts and times written the way the reader expects.

A notification is written in the transaction of the change, often for several people at once,
each in their own language; so services hand over a :class:`Message` (a marked template and
its named values) and ``notifications`` renders it once per recipient inside
``translation.override``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Message:
    """A marked template (``gettext_lazy``) and its named values, rendered when read.

    Values may be lazy too (a status label, another Message); each is rendered in the
    language active when the message is.
    """

    template: str | Promise
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.values:
            return str(self.template)
        # ``%`` on a lazy template (gettext_lazy, ngettext_lazy with a named count) picks the
        # translation, and the plural, in the active language.
        return str(self.template % {key: _text(value) for key, value in self.values.items()})


def _text(value: Any) -> Any:
    if isinstance(value, Promise | Message):
        return str(value)
    return value


def render(text: str | Promise | Message, language: str) -> str:
    """``text`` as it reads in ``language``."""
    with translation.override(language):
        return str(text)


# Where a person's saved choice is read from: the app that keeps it (notifications, whose
# language switch saves it) registers a reader at start-up; kernel sits below it.
_language_reader: Callable[[object], str | None] | None = None


def set_language_reader(reader: Callable[[object], str | None]) -> None:
    global _language_reader
    _language_reader = reader


def stored_language(user: object) -> str | None:
    """The language ``user`` chose with the header's switch, if they chose one."""
    return _language_reader(user) if _language_reader is not None else None


def user_language(user: object) -> str:
    """The language ``user`` reads notifications in: their own choice if they made one and
    the site offers it, else ``settings.LANGUAGE_CODE``."""
    chosen = stored_language(user)
    if chosen and chosen in {code for code, _name in settings.LANGUAGES}:
        return chosen
    return settings.LANGUAGE_CODE


def pesos(centavos: int) -> str:
    """₱1,600.00 from 160000: for pages, PDFs and e-mail."""
    sign = "-" if centavos < 0 else ""
    centavos = abs(centavos)
    return f"{sign}₱{centavos // 100:,}.{centavos % 100:02d}"


def pesos_for_sms(centavos: int) -> str:
    """PHP 1,600.00 from 160000: ₱ is outside the GSM-7 alphabet, and one such character
    turns a text message into UCS-2, 70 characters a segment instead of 160."""
    sign = "-" if centavos < 0 else ""
    centavos = abs(centavos)
    return f"{sign}PHP {centavos // 100:,}.{centavos % 100:02d}"


def manila_date(moment: datetime | date | None, *, long: bool = False) -> Message:
    """A moment as the day it was in the site's time zone (Manila), read in the language
    active when it is shown: 01 Dec 2026, or 01 December 2026 with ``long`` (the English is
    what strftime's %d %b %Y and %d %B %Y wrote before). Nothing for no moment."""
    if moment is None:
        return Message("")
    day = timezone.localtime(moment).date() if isinstance(moment, datetime) else moment
    month = (MONTHS_LONG if long else MONTHS)[day.month]
    return Message(
        "%(day)s %(month)s %(year)s", {"day": f"{day.day:02d}", "month": month, "year": day.year}
    )


def manila_time(moment: datetime, *, long: bool = False) -> Message:
    """A moment in Manila time, e.g. 01 Dec 2026 14:30."""
    local = timezone.localtime(moment)
    return Message(
        "%(date)s %(time)s", {"date": manila_date(local, long=long), "time": f"{local:%H:%M}"}
    )


# Django ships no Filipino catalogue, so the month names the app writes are its own.
MONTHS = {
    1: pgettext_lazy("month, short", "Jan"),
    2: pgettext_lazy("month, short", "Feb"),
    3: pgettext_lazy("month, short", "Mar"),
    4: pgettext_lazy("month, short", "Apr"),
    5: pgettext_lazy("month, short", "May"),
    6: pgettext_lazy("month, short", "Jun"),
    7: pgettext_lazy("month, short", "Jul"),
    8: pgettext_lazy("month, short", "Aug"),
    9: pgettext_lazy("month, short", "Sep"),
    10: pgettext_lazy("month, short", "Oct"),
    11: pgettext_lazy("month, short", "Nov"),
    12: pgettext_lazy("month, short", "Dec"),
}
MONTHS_LONG = {
    1: pgettext_lazy("month", "January"),
    2: pgettext_lazy("month", "February"),
    3: pgettext_lazy("month", "March"),
    4: pgettext_lazy("month", "April"),
    5: pgettext_lazy("month", "May"),
    6: pgettext_lazy("month", "June"),
    7: pgettext_lazy("month", "July"),
    8: pgettext_lazy("month", "August"),
    9: pgettext_lazy("month", "September"),
    10: pgettext_lazy("month", "October"),
    11: pgettext_lazy("month", "November"),
    12: pgettext_lazy("month", "December"),
}
