"""Chaincode-as-a-service: the Talaan contract served over gRPC for Fabric peers to connect to.

Configured from the environment as Fabric's external-builder ("ccaas") convention has it:

- ``CHAINCODE_ID``: the package id the peer installed (``talaan_1.0:<hash>``).
- ``CHAINCODE_SERVER_ADDRESS``: where to listen, ``host:port`` (``0.0.0.0:9999`` in a container).
- ``CHAINCODE_TLS_KEY_FILE`` and ``CHAINCODE_TLS_CERT_FILE``: serve TLS with this key and
  certificate; with ``CHAINCODE_CLIENT_CA_CERT_FILE`` as well, require the peer's client
  certificate issued by that CA (mutual TLS).
- ``TALAAN_MSP_KINDS``: which MSP signs for which organisation kind (``chaincode.rules``).
- ``TALAAN_CLEARANCE_SIGNERS``: which organisation kind signs each clearance kind
  (``chaincode.rules``), for kinds beyond the built-in ones.
- ``CHAINCODE_LOG_LEVEL``: ``INFO`` unless set.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from fabric_protos.peer import chaincode_shim_pb2_grpc

from chaincode import fabric_shim_fixes
from chaincode.rules import clearance_signers, msp_kinds
from chaincode.shim import shim_server

logger = logging.getLogger("chaincode.server")

# What Go's shim server allows (internal.NewServer): 100 MiB messages, and a peer's keepalive
# ping once a minute even on an idle stream; grpc core would otherwise answer a peer pinging
# more often than every 5 minutes with GOAWAY "too_many_pings" and drop the stream.
SERVER_OPTIONS = (
    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
    ("grpc.max_send_message_length", 100 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 2 * 60 * 60 * 1000),
    ("grpc.keepalive_timeout_ms", 20 * 1000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 60 * 1000),
)
SHUTDOWN_GRACE_SECONDS = 5.0


class ConfigurationError(Exception):
    """The server cannot start with the environment it was given."""


@dataclass(frozen=True)
class ServerConfig:
    chaincode_id: str
    address: str
    tls_key: bytes | None = None
    tls_cert: bytes | None = None
    client_ca_cert: bytes | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Read the configuration, refusing a half-configured TLS."""
        env = os.environ if environ is None else environ
        chaincode_id = env.get("CHAINCODE_ID", "").strip()
        address = env.get("CHAINCODE_SERVER_ADDRESS", "").strip()
        if not chaincode_id:
            raise ConfigurationError("CHAINCODE_ID is not set (the installed package id).")
        if not address:
            raise ConfigurationError("CHAINCODE_SERVER_ADDRESS is not set (host:port).")
        key, cert, client_ca = (
            _read(env, name)
            for name in (
                "CHAINCODE_TLS_KEY_FILE",
                "CHAINCODE_TLS_CERT_FILE",
                "CHAINCODE_CLIENT_CA_CERT_FILE",
            )
        )
        if bool(key) != bool(cert):
            raise ConfigurationError(
                "Set both CHAINCODE_TLS_KEY_FILE and CHAINCODE_TLS_CERT_FILE, or neither."
            )
        if client_ca and not key:
            raise ConfigurationError("CHAINCODE_CLIENT_CA_CERT_FILE needs TLS to be configured.")
        return cls(chaincode_id, address, key, cert, client_ca)

    @property
    def tls(self) -> bool:
        return self.tls_key is not None


def _read(env: Mapping[str, str], name: str) -> bytes | None:
    path = env.get(name, "").strip()
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{name}: cannot read {path}: {exc.strerror}.") from exc


def new_chaincode() -> Any:
    """The Talaan chaincode with every fix of ``chaincode.fabric_shim_fixes`` in force."""
    from chaincode.contract import TalaanContract, new_chaincode

    fabric_shim_fixes.apply()
    fabric_shim_fixes.check_transactions_are_async(TalaanContract())
    return new_chaincode()


def build_server(config: ServerConfig, chaincode: Any = None) -> tuple[grpc.aio.Server, int]:
    """Create (not start) the gRPC server; return it with the port it is bound to."""
    server = grpc.aio.server(options=SERVER_OPTIONS)
    if config.tls:
        credentials = shim_server.load_tls_config(
            config.tls_key, config.tls_cert, config.client_ca_cert
        )
        port = server.add_secure_port(config.address, credentials)
    else:
        port = server.add_insecure_port(config.address)
    service = fabric_shim_fixes.ChaincodeService(config.chaincode_id, chaincode or new_chaincode())
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(service, server)
    return server, port


async def serve(
    config: ServerConfig,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until ``stop`` is set (SIGTERM and SIGINT set it when run as the main program)."""
    # A malformed TALAAN_MSP_KINDS or TALAAN_CLEARANCE_SIGNERS fails here, not in the first
    # transaction.
    msp_kinds()
    clearance_signers()
    stop = stop or asyncio.Event()
    server, port = build_server(config)
    await server.start()
    logger.info(
        "Chaincode %s listening on %s (port %d, %s)",
        config.chaincode_id,
        config.address,
        port,
        "mutual TLS" if config.client_ca_cert else "TLS" if config.tls else "no TLS",
    )
    if on_ready:
        on_ready(port)
    await stop.wait()
    logger.info("Stopping: %.0f s for transactions in flight", SHUTDOWN_GRACE_SECONDS)
    await server.stop(SHUTDOWN_GRACE_SECONDS)
    logger.info("Stopped")


def main(environ: Mapping[str, str] | None = None) -> int:
    """Run the chaincode server in the foreground; the exit status for the process."""
    env = os.environ if environ is None else environ
    logging.basicConfig(
        level=env.get("CHAINCODE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        config = ServerConfig.from_env(env)
    except ConfigurationError as exc:
        logger.error("%s", exc)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(config, stop=stop)

    asyncio.run(run())
    return 0
