"""The status lookup's version: what its answer shows, known before it is rendered.

The API's status lookup answers ``If-None-Match`` from this alone: the caller's memberships
(one query) and the application found with its version (one query), so a 304 costs two
queries and renders nothing. The version holds every input of the body: the application's
own fields, whether its vehicle is on hold, what each participant's ``status_version``
says of its part for this caller, and who the caller is (which decides which parts show).
A change that alters the body alters the version; some that do not (a request's remarks)
alter it too, which costs a full answer, never a stale one.

Building that query through the ORM (five correlated subqueries and the access funnel) cost
more than running it, on every request. Its SQL only depends on the *shape* of the caller
(LTO staff or not, how many organisations, a key and its scopes or a session, the user's
flags) and on the field looked up, so on PostgreSQL each process compiles it once per shape,
with stand-in values for the caller's ids and the looked-up value, and afterwards only puts
the real values in their places (``_Template``). The stand-ins are values no row has; a
build that reads the database, or puts a stand-in anywhere but a parameter of its own, is
not kept, and that shape is compiled afresh each time (the ORM path, which SQLite always
takes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from organisations.access import Caller
from organisations.models import ApiKey, Membership
from registry import participants
from registry.models import Hold, RegistrationApplication
from registry.selectors import applications_seen_by

# Raised whenever the body's shape changes, so that no ETag of the old shape matches.
_SHAPE = "status-lookup/1"
_COLUMNS = {"reference": "reference", "vin": "vehicle__vin", "plate": "vehicle__plate_number"}
# The application's columns the body shows (and the version holds), read with its version.
_FIELDS = ("pk", "reference", "type", "status", "updated_at", "on_hold")


@dataclass(frozen=True)
class Found:
    application: RegistrationApplication  # only _FIELDS loaded (the rest deferred)
    etag: str


def _version_query(caller: Caller, field: str, value: str) -> tuple[QuerySet, list[str]]:
    """The latest application the caller may see by ``field`` = ``value`` (normalised), as
    one row of _FIELDS and the participants' version columns (whose names come second)."""
    parts = participants.status_version(caller=caller)
    rows = (
        applications_seen_by(caller)
        .filter(**{_COLUMNS[field]: value})
        .annotate(
            on_hold=Exists(
                Hold.objects.filter(vin=OuterRef("vehicle__vin"), status=Hold.Status.ACTIVE)
            ),
            **parts,
        )
        .order_by("-created_at")
        .values(*_FIELDS, *sorted(parts))[:1]
    )
    return rows, sorted(parts)


# Stand-ins: ids no row has (ids are positive) and a value no normalised input equals (a
# lookup value is at most 17 characters). Every one starts with the same digits, so that one
# that reached the SQL or a parameter in any other form than itself is seen.
_USER_STAND_IN = -7300000001
_LIMIT_STAND_IN = -7300000002
_ORGANISATION_STAND_INS = -7300001000  # minus 0, 1, ... for each organisation
_VALUE_STAND_IN = "TALAAN-STATUS-LOOKUP-VALUE-STAND-IN"
_STAND_IN_MARKS = ("730000", _VALUE_STAND_IN)


class _ShapeOnly(Caller):
    """A caller of the same shape as ``like``, with stand-ins for its ids."""

    def __init__(self, like: Caller) -> None:
        api_key = None
        if like.api_key is not None:
            api_key = ApiKey(organisation_id=_LIMIT_STAND_IN, scopes=list(like.api_key.scopes))
        # What else the query could read of the user or key is the real one's (and in _shape).
        user = get_user_model()(
            pk=_USER_STAND_IN,
            is_active=like.user.is_active,
            is_staff=like.user.is_staff,
            is_superuser=like.user.is_superuser,
        )
        super().__init__(user, api_key)
        self._lto_staff = like.is_lto_staff
        self._organisations = len(like.organisation_ids)

    @property
    def memberships(self) -> tuple[Membership, ...]:
        # Anything but the ids below would take this caller's rows for the real one's.
        raise _NotCompilable("the query reads the caller's memberships themselves")

    @cached_property
    def is_lto_staff(self) -> bool:
        return self._lto_staff

    @cached_property
    def organisation_ids(self) -> frozenset[int]:
        return frozenset(_ORGANISATION_STAND_INS - i for i in range(self._organisations))


class _NotCompilable(Exception):
    pass


@dataclass(frozen=True)
class _Template:
    sql: str
    # Each parameter: a constant of the query, or how to read it from (caller, value).
    params: tuple[Callable[[Caller, str], Any], ...]
    # What the ORM would name the row's first columns, and turn their values into.
    names: tuple[str, ...]
    converters: dict[int, tuple[list[Callable[..., Any]], Any]]

    @classmethod
    def compile(cls, caller: Caller, field: str) -> _Template:
        stand_in = _ShapeOnly(caller)
        with connection.execute_wrapper(_no_query):
            rows, _ = _version_query(stand_in, field, _VALUE_STAND_IN)
            compiler = rows.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
        if any(mark in sql for mark in _STAND_IN_MARKS):
            raise _NotCompilable("a stand-in was written into the SQL itself")
        query = rows.query
        # As ValuesIterable names a row (Django 5.2).
        names = query.selected or [
            *query.extra_select,
            *query.values_select,
            *query.annotation_select,
        ]
        organisations = {
            stand: index for index, stand in enumerate(sorted(stand_in.organisation_ids))
        }
        return cls(
            sql=sql,
            params=tuple(_reader(param, organisations) for param in params),
            names=tuple(names),
            converters=compiler.get_converters([s[0] for s in compiler.select[: len(names)]]),
        )

    def run(self, caller: Caller, value: str) -> dict[str, Any] | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [read(caller, value) for read in self.params])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row[: len(self.names)])
        for position, (converters, expression) in self.converters.items():
            for convert in converters:
                values[position] = convert(values[position], expression, connection)
        return dict(zip(self.names, values, strict=True))


def _no_query(*args: Any) -> None:
    raise _NotCompilable("building the query ran a query")


def _reader(param: Any, organisations: dict[int, int]) -> Callable[[Caller, str], Any]:
    if param == _USER_STAND_IN:
        return lambda caller, value: caller.user_id
    if param == _LIMIT_STAND_IN:
        return lambda caller, value: caller.organisation_limit
    if isinstance(param, int) and param in organisations:
        index = organisations[param]
        return lambda caller, value: sorted(caller.organisation_ids)[index]
    if param == _VALUE_STAND_IN:
        return lambda caller, value: value
    if any(mark in str(param) for mark in _STAND_IN_MARKS):
        raise _NotCompilable(f"a stand-in changed on its way into a parameter: {param!r}")
    return lambda caller, value: param


# Per process: (database, field, caller's shape) -> its template, or None when it is not
# compilable (then the ORM builds the query each time).
_templates: dict[tuple[Any, ...], _Template | None] = {}


def _shape(caller: Caller, field: str) -> tuple[Any, ...]:
    user = caller.user
    return (
        connection.alias,
        field,
        None if caller.api_key is None else tuple(sorted(caller.api_key.scopes)),
        (user.is_active, user.is_staff, user.is_superuser),
        caller.is_lto_staff,
        len(caller.organisation_ids),
    )


def _version_row(caller: Caller, field: str, value: str) -> dict[str, Any] | None:
    if connection.vendor == "postgresql":
        shape = _shape(caller, field)
        if shape not in _templates:
            try:
                _templates[shape] = _Template.compile(caller, field)
            except _NotCompilable:
                _templates[shape] = None
        template = _templates[shape]
        if template is not None:
            return template.run(caller, value)
    rows, _ = _version_query(caller, field, value)
    return next(iter(rows), None)


def latest_application(caller: Caller, *, field: str, value: str) -> Found | None:
    """The latest application the caller may see whose ``field`` (reference, vin or plate) is
    ``value``, with its ETag; None when there is none."""
    if not caller.is_authenticated:
        return None
    row = _version_row(caller, field, value.strip().upper())
    if row is None:
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
            row["pk"],
            row["reference"],
            row["type"],
            row["status"],
            row["updated_at"].isoformat(),
        ],
        "on_hold": row["on_hold"],
        "parts": {name: row[name] for name in row if name not in _FIELDS},
    }
    digest = hashlib.sha256(json.dumps(version, default=str, sort_keys=True).encode())
    return Found(_loaded(row), f'"{digest.hexdigest()}"')


def _loaded(row: dict[str, Any]) -> RegistrationApplication:
    shown = {**row, "id": row["pk"]}
    # from_db takes the values in the model's field order; the others are left deferred.
    names = [f.attname for f in RegistrationApplication._meta.concrete_fields if f.attname in shown]
    application = RegistrationApplication.from_db(
        DEFAULT_DB_ALIAS, names, [shown[name] for name in names]
    )
    application.on_hold = row["on_hold"]  # type: ignore[attr-defined]
    return application
