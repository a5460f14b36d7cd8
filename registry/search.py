"""The LTO's search box: what people type, found through one index per kind of input.

Each kind of input (a reference, a VIN, a plate, a username, an e-mail, a name, a make or
model) is its own lookup on its own index, and the matches are joined by UNION. One OR across
the joined tables would let no index serve any of them: PostgreSQL then reads every
application, which took 10 to 18 s at a million rows (issue 17).

The keys are computed by the database from the stored values (``name_key``, ``vehicle_key``),
so loaders that bypass Django need fill nothing. On PostgreSQL a ``pg_trgm`` GIN index serves
the substring matches on names, makes and models (migration registry 0023); elsewhere (the
embedded SQLite) the same query runs as a plain scan, which is fine at its size.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.db.models.functions import Upper

from kernel.db import UpperWords
from registry.models import RegistrationApplication, Vehicle
from registry.services import canonical_plate

_Applications = TypeVar("_Applications", bound=QuerySet[RegistrationApplication, Any])

# pg_trgm cannot narrow a substring shorter than one trigram: such input only matches exactly.
SUBSTRING_MIN_LENGTH = 3


def name_key() -> UpperWords:
    """A user's "FIRST LAST", the expression the trigram index on auth_user is built on."""
    return UpperWords("first_name", "last_name")


def vehicle_key() -> UpperWords:
    """A vehicle's "MAKE MODEL", the expression the trigram index on vehicles is built on."""
    return UpperWords("make", "model")


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def matching_application_ids(q: str) -> QuerySet[RegistrationApplication, Any]:
    """The ids of the applications ``q`` names, as one UNION of indexed lookups."""
    text = " ".join(q.split())
    compact = _compact(text)
    applications = RegistrationApplication.objects.order_by()
    vehicles = Vehicle.objects.order_by()
    users = User.objects.order_by()

    vehicle_ids = [
        vehicles.filter(vin=compact),
        vehicles.filter(plate_number=canonical_plate(text)),
    ]
    user_ids = [
        users.annotate(username_key=Upper("username")).filter(username_key=text.upper()),
        users.annotate(email_key=Upper("email")).filter(email_key=text.upper()),
    ]
    if len(text) >= SUBSTRING_MIN_LENGTH:
        needle = text.upper()
        vehicle_ids.append(vehicles.annotate(key=vehicle_key()).filter(key__contains=needle))
        user_ids.append(users.annotate(key=name_key()).filter(key__contains=needle))
    return (
        applications.filter(reference=compact)
        .values("pk")
        .union(
            applications.filter(vehicle_id__in=_union(vehicle_ids)).values("pk"),
            applications.filter(applicant_id__in=_union(user_ids)).values("pk"),
        )
    )


def _union(querysets: list[QuerySet]) -> QuerySet:
    first, *rest = (queryset.values("pk") for queryset in querysets)
    return first.union(*rest)


def search_applications(applications: _Applications, q: str) -> _Applications:
    """``applications`` narrowed to those ``q`` names; every application for blank input."""
    if not q.split():
        return applications
    return applications.filter(pk__in=matching_application_ids(q))
