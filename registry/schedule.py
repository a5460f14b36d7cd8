"""When a registration falls due: the LTO's renewal schedule, read from the plate.

The last digit of the plate gives the month and the second-last digit the week of it
(sources: the LTO's schedule as reported by TopGear Philippines, 2023-08-02, "LTO
registration for 7 plates extended"; Project Jurisprudence, "10 important things about LTO
vehicle registration"; Cebu Daily News, 2022-04-27, on LTO Memorandum Circular 2022-2325's
weekly schedule). By that table TGP 4567 is due July 8-14 (TopGear's own example says 15-21,
which its table contradicts; the table is what is implemented).

Motorcycle plates carry the week in another position; only one source says which ("use the
3rd digit"), so the position is a setting (``RENEWAL_WEEK_DIGIT_MOTORCYCLE``, counted from the
end of the plate's digits, 2 by default) rather than a rule stated here as confirmed.

A first registration runs three years and ends at the plate's slot in its third year (the slot
that falls after two years and no later than three); each renewal runs one year, to the same
slot a year on. A vehicle still waiting for its plate has no slot yet: its first period is set
when the LTO approves it and issues the plate (until then the application shows three years
from filing, provisionally).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kernel.i18n import Message

# Last digit of the plate -> month (0 is October; November and December have no plates due).
MONTH_OF_LAST_DIGIT = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 0: 10}
# Second-last digit -> (first day, last day or None for the month's end) of the due week.
WEEK_OF_DIGIT = {
    1: (1, 7),
    2: (1, 7),
    3: (1, 7),
    4: (8, 14),
    5: (8, 14),
    6: (8, 14),
    7: (15, 21),
    8: (15, 21),
    9: (22, None),
    0: (22, None),
}


class NoSchedule(ValueError):
    """The plate has too few digits to read a schedule from."""


@dataclass(frozen=True)
class Slot:
    """The days of one year in which a plate's registration falls due."""

    first: dt.date
    last: dt.date


def _digits(plate: str) -> list[int]:
    return [int(digit) for digit in re.sub(r"\D", "", plate)]


def slot_in(plate: str, year: int, *, motorcycle: bool = False) -> Slot:
    """The plate's due days in ``year``."""
    digits = _digits(plate)
    week_position = int(getattr(settings, "RENEWAL_WEEK_DIGIT_MOTORCYCLE", 2)) if motorcycle else 2
    if len(digits) < max(2, week_position):
        raise NoSchedule(
            Message(
                _("Plate %(plate)s has too few digits to read its renewal schedule."),
                {"plate": repr(plate)},
            )
        )
    month = MONTH_OF_LAST_DIGIT[digits[-1]]
    first_day, last_day = WEEK_OF_DIGIT[digits[-week_position]]
    last_day = last_day or calendar.monthrange(year, month)[1]
    return Slot(first=dt.date(year, month, first_day), last=dt.date(year, month, last_day))


def next_slot_after(plate: str, day: dt.date, *, motorcycle: bool = False) -> Slot:
    """The first slot of the plate that ends after ``day``."""
    for year in (day.year, day.year + 1):
        slot = slot_in(plate, year, motorcycle=motorcycle)
        if slot.last > day:
            return slot
    raise AssertionError("a slot falls in every year")  # pragma: no cover


def first_period_end(plate: str, start: dt.date, *, motorcycle: bool = False) -> dt.date:
    """The end of a first registration from ``start``: the plate's slot in its third year."""
    return next_slot_after(plate, start + relativedelta(years=2), motorcycle=motorcycle).last


def renewal_period_end(plate: str, previous_end: dt.date, *, motorcycle: bool = False) -> dt.date:
    """The end of the renewal of a period that ended on ``previous_end``: a year on."""
    return next_slot_after(plate, previous_end, motorcycle=motorcycle).last


def renewal_opens(slot: Slot) -> dt.date:
    """The first day a renewal for ``slot`` may be filed (``RENEWAL_OPENS_DAYS_BEFORE``)."""
    return slot.first - dt.timedelta(days=int(getattr(settings, "RENEWAL_OPENS_DAYS_BEFORE", 60)))
