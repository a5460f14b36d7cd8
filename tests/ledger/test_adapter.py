"""The backend is chosen by dotted path, the shipped ones by short name too, and callers ask a
backend what it can do instead of which class it is."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ledger import adapter
from ledger.embedded import EmbeddedLedger
from ledger.fabric.backend import FabricLedger

build = adapter._build.__wrapped__  # the uncached builder: each test gets its own answer


def test_the_short_names_are_aliases_of_the_dotted_paths():
    assert type(build("embedded")) is EmbeddedLedger
    assert type(build("ledger.embedded.EmbeddedLedger")) is EmbeddedLedger
    assert adapter.BACKEND_ALIASES["fabric"] == "ledger.fabric.backend.FabricLedger"


def test_an_unknown_backend_is_refused_naming_the_choices():
    with pytest.raises(ImproperlyConfigured, match="'embedded' or 'fabric'"):
        build("postgres-ledger")


def test_a_path_to_something_that_is_no_ledger_is_refused():
    with pytest.raises(ImproperlyConfigured, match="does not name a Ledger class"):
        build("kernel.errors.DomainError")


def test_each_backend_declares_what_it_can_do():
    assert EmbeddedLedger.is_transparency_log
    assert not EmbeddedLedger.lists_changes and not EmbeddedLedger.streams_events
    assert FabricLedger.lists_changes and FabricLedger.streams_events
    assert not FabricLedger.is_transparency_log


def test_a_capability_a_backend_lacks_says_so():
    with pytest.raises(NotImplementedError, match="embedded ledger cannot list its changes"):
        build("embedded").change_ids(idle_seconds=0)
