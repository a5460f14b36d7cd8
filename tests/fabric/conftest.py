"""Fixtures for the Fabric backend: a test PKI, the real chaincode server, a test peer.

See ``tests/fabric/peer.py``: no Fabric peer can be installed here, so a stand-in speaking
the Gateway protocol runs the chaincode over the shim protocol instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import adapter
from tests.fabric.peer import TestPeer, TestPKI
from tests.live import free_port

BASE_DIR = Path(__file__).resolve().parents[2]

# Until ``python -m chaincode`` exists, serve the contract the way it will: the shim's server.
_SERVE_CONTRACT = "from chaincode.contract import new_chaincode\nnew_chaincode().start()\n"


def _wait_for_port(address: str, process: subprocess.Popen, log: Path) -> None:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The chaincode server exited:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection((host, int(port)), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"The chaincode server did not listen on {address}.")


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI.create()


@pytest.fixture(scope="session")
def chaincode_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real chaincode, served as chaincode-as-a-service in a process of its own."""
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "CHAINCODE_ID": "talaan:test", "CHAINCODE_SERVER_ADDRESS": address}
    for name in (
        "CHAINCODE_TLS_KEY_FILE",
        "CHAINCODE_TLS_CERT_FILE",
        "CHAINCODE_CLIENT_CA_CERT_FILE",
    ):
        env.pop(name, None)
    if (BASE_DIR / "chaincode" / "__main__.py").exists():
        command = [sys.executable, "-m", "chaincode"]
    else:
        command = [sys.executable, "-c", _SERVE_CONTRACT]
    log = tmp_path_factory.mktemp("chaincode") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(address, process, log)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def peer(pki: TestPKI, chaincode_server: str) -> Iterator[TestPeer]:
    """A fresh peer with an empty ledger, connected to the chaincode server."""
    test_peer = TestPeer(pki=pki, chaincode_address=chaincode_server)
    yield test_peer
    test_peer.stop()


@pytest.fixture
def fabric(settings, peer: TestPeer, pki: TestPKI, tmp_path: Path) -> Iterator[TestPeer]:  # type: ignore[no-untyped-def]
    """LEDGER_BACKEND=fabric against the test peer, with each organisation's identity."""
    identities = tmp_path / "identities"
    pki.write_identities(identities)
    settings.LEDGER_BACKEND = "fabric"
    settings.FABRIC_GATEWAY_ENDPOINT = peer.address
    settings.FABRIC_TLS_CA_FILE = ""
    settings.FABRIC_TLS_SERVER_NAME = ""
    settings.FABRIC_IDENTITIES_DIR = str(identities)
    settings.FABRIC_QUERY_MSP = "LTOMSP"
    settings.FABRIC_DEADLINE_SECONDS = 5
    settings.FABRIC_RETRIES = 2
    adapter._build.cache_clear()
    yield peer
    ledger = adapter._build("fabric") if adapter._build.cache_info().currsize else None
    if ledger is not None:
        ledger.gateway.close()
    adapter._build.cache_clear()
