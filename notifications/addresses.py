"""Where people can be reached besides their e-mail address, told by the app that keeps it.

notifications/ knows no domain model: the app that keeps people's mobile numbers (registry,
on owner profiles) registers a lookup when Django starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# The mobile numbers of the given users that have one, by user id.
MobileNumbers = Callable[[list[int]], dict[int, str]]

_mobile_numbers: list[MobileNumbers] = []


def register_mobile_numbers(lookup: MobileNumbers) -> None:
    if lookup not in _mobile_numbers:
        _mobile_numbers.append(lookup)


def mobile_numbers(user_ids: Iterable[int]) -> dict[int, str]:
    """Every registered lookup's numbers for these users; users without one are absent."""
    ids = list(user_ids)
    found: dict[int, str] = {}
    for lookup in _mobile_numbers:
        found.update(lookup(ids))
    return found
