"""API keys read from the shared cache, so a key's check costs no query on most requests.

What is cached, per key prefix, is the key's row, its organisation's row and the few fields
of its creator that a request uses (never the password hash). The entry lives a minute at
most, and every save or delete of a key, an organisation or a user replaces the entries of
the keys concerned with a tombstone, in the transaction and again once it commits: a revoked
key, a deactivated officer or organisation is refused on the very next request in every
process (the cache is the shared Redis; the embedded default's locmem is one process).

The tombstone is why entries are written with ``cache.add``: a request that read the key from
the database just before the revocation committed cannot put the old row back afterwards,
because ``add`` does not overwrite the tombstone; while it lasts, requests read the database.

Only saves and deletes send the signals that do this: change keys, organisations and users
through their services or the admin (which save), never with a queryset's ``update()``.

The cache only saves work: when Redis is down every check reads the database.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, models, transaction

from organisations.models import ApiKey, Organisation

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
_TOMBSTONE = "changed"
# What a request reads of the key's creator; anything else loads from the database on access.
_USER_FIELDS = (
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)


def _cache_key(prefix: str) -> str:
    return f"api-key:v1:{prefix}"


def _row(instance: models.Model, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    fields = [f for f in instance._meta.concrete_fields if names is None or f.attname in names]
    return {f.attname: getattr(instance, f.attname) for f in fields}


def _rebuilt(model: type[models.Model], row: dict[str, Any]) -> Any:
    # from_db marks the fields left out as deferred: reading one later queries for it.
    return model.from_db(DEFAULT_DB_ALIAS, list(row), list(row.values()))


def _load(prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("organisation", "created_by").filter(prefix=prefix).first()


def key_for_prefix(prefix: str) -> ApiKey | None:
    """The key with this prefix (its organisation and creator loaded with it), or None."""
    name = _cache_key(prefix)
    try:
        cached = cache.get(name)
    except Exception:
        logger.warning("API key cache unreachable; reading the database", exc_info=True)
        return _load(prefix)
    if isinstance(cached, dict):
        key = _rebuilt(ApiKey, cached["key"])
        key.organisation = _rebuilt(Organisation, cached["organisation"])
        key.created_by = _rebuilt(get_user_model(), cached["user"])
        return key
    key = _load(prefix)
    if key is not None and cached != _TOMBSTONE:
        entry = {
            "key": _row(key),
            "organisation": _row(key.organisation),
            "user": _row(key.created_by, _USER_FIELDS),
        }
        try:
            cache.add(name, entry, CACHE_SECONDS)
        except Exception:
            logger.warning("Could not cache an API key", exc_info=True)
    return key


def forget_keys(prefixes: list[str]) -> None:
    """Make the next check of these keys read the database, here and in every process."""
    if not prefixes:
        return

    def bury() -> None:
        try:
            cache.set_many({_cache_key(p): _TOMBSTONE for p in prefixes}, CACHE_SECONDS)
        except Exception:
            # Redis is down: nothing can read a stale entry from it either, and entries
            # expire within CACHE_SECONDS of its return.
            logger.warning("Could not invalidate cached API keys", exc_info=True)

    bury()
    # Again once committed: a request between the two may have read the old row.
    transaction.on_commit(bury)


def forget_keys_of(**filters: Any) -> None:
    forget_keys(list(ApiKey.objects.filter(**filters).values_list("prefix", flat=True)))


# Signal receivers, connected in OrganisationsConfig.ready.


def key_changed(sender: type, instance: ApiKey, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if kwargs.get("created"):
        # Its id may be one a flushed database gave an earlier key (tests): its uses are its own.
        _used_here.pop(instance.pk, None)
    # A new key was never cached (an unknown prefix is not); touching it changes no answer.
    if kwargs.get("created") or (
        update_fields is not None and set(update_fields) <= {"last_used_at"}
    ):
        return
    forget_keys([instance.prefix])


def organisation_changed(sender: type, instance: Organisation, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return
    forget_keys_of(organisation_id=instance.pk)


def user_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    # Signing in saves last_login only; a new user has no keys yet.
    if kwargs.get("created") or (
        update_fields is not None and set(update_fields) <= {"last_login"}
    ):
        return
    forget_keys_of(created_by_id=instance.pk)


# The last use this process recorded of each key: a key used again within the minute needs
# no round trip to learn that its use is recorded already. It only ever saves a write of
# last_used_at, never decides whether a key is let in.
_used_here: dict[int, datetime] = {}


def used_here(key_id: int) -> datetime | None:
    """When this process last recorded a use of the key (api_key_touch), if it did."""
    return _used_here.get(key_id)


def recorded_use(key_id: int) -> datetime | None:
    """When a process last recorded a use of the key (api_key_touch), if the cache knows."""
    try:
        return cache.get(f"api-key-used:v1:{key_id}")
    except Exception:
        return None


def record_use(key_id: int, when: datetime) -> None:
    _used_here[key_id] = when
    try:
        cache.set(f"api-key-used:v1:{key_id}", when, 2 * CACHE_SECONDS)
    except Exception:
        return
