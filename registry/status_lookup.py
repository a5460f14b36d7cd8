"""The status lookup's version: what its answer shows, known before it is rendered.

The API's status lookup answers ``If-None-Match`` from this alone: the caller's memberships
(one query) and the application found with its version (one query), so a 304 costs two
queries and renders nothing. The version holds every input of the body: the application's
own fields, whether its vehicle is on hold, what each participant's ``status_version``
says of its part for this caller, and who the caller is (which decides which parts show).
A change that alters the body alters the version; some that do not (a request's remarks)
alter it too, which costs a full answer, never a stale one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from organisations.access import Caller
from registry import participants
from registry.models import Hold, RegistrationApplication
from registry.selectors import applications_seen_by

# Raised whenever the body's shape changes, so that no ETag of the old shape matches.
_SHAPE = "status-lookup/1"
_COLUMNS = {"reference": "reference", "vin": "vehicle__vin", "plate": "vehicle__plate_number"}


@dataclass(frozen=True)
class Found:
    application: RegistrationApplication  # vehicle loaded; ``on_hold`` annotated
    etag: str


def latest_application(caller: Caller, *, field: str, value: str) -> Found | None:
    """The latest application the caller may see whose ``field`` (reference, vin or plate) is
    ``value``, with its ETag; None when there is none."""
    parts = participants.status_version(caller=caller)
    application = (
        applications_seen_by(caller)
        .filter(**{_COLUMNS[field]: value.strip().upper()})
        .annotate(
            on_hold=Exists(
                Hold.objects.filter(vin=OuterRef("vehicle__vin"), status=Hold.Status.ACTIVE)
            ),
            **parts,
        )
        .order_by("-created_at")
        .first()
    )
    if application is None:
        return None
    version: dict[str, Any] = {
        "shape": _SHAPE,
        "time_zone": timezone.get_current_timezone_name(),
        "caller": [
            caller.user_id,
            caller.is_lto_staff,
            sorted(caller.organisation_ids),
            caller.organisation_limit,
        ],
        "application": [
            application.pk,
            application.reference,
            application.type,
            application.status,
            application.updated_at.isoformat(),
        ],
        "on_hold": application.on_hold,
        "parts": {name: getattr(application, name) for name in sorted(parts)},
    }
    digest = hashlib.sha256(json.dumps(version, default=str, sort_keys=True).encode())
    return Found(application, f'"{digest.hexdigest()}"')
