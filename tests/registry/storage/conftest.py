"""Fixtures for the storage backends: a real (embedded) Kubo behind a test façade, and the
OCI Object Storage stand-in with a throwaway signing key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.registry.storage.kubo import running_kubo
from tests.registry.storage.oci_standin import OciStandIn, running_oci_standin


@pytest.fixture(scope="session")
def kubo_api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The RPC URL of one embedded Kubo node for the whole session (CIDs are content-derived,
    so tests sharing the node cannot disturb each other's documents)."""
    with running_kubo(tmp_path_factory.mktemp("kubo")) as api_url:
        yield api_url


@pytest.fixture
def oci_standin(tmp_path) -> Iterator[OciStandIn]:
    """The OCI Object Storage stand-in, with a fresh test user and an empty bucket."""
    with running_oci_standin(tmp_path) as standin:
        yield standin
