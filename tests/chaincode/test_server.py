"""``python -m chaincode`` serves the shim's gRPC service, with TLS when configured."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from cryptography.x509.oid import NameOID

from chaincode.server import ConfigurationError, ServerConfig, build_server, main
from tests.chaincode.certs import certificate, name
from tests.chaincode.shim_peer import ScriptedPeer

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def registers_as(channel: grpc.aio.Channel) -> str:
    async with ScriptedPeer(channel) as peer:
        return peer.registered_as


@pytest.mark.slow
def test_python_m_chaincode_listens_registers_and_stops_on_sigterm():
    port = free_port()
    env = {
        **os.environ,
        "CHAINCODE_ID": "talaan_1.0:abc123",
        "CHAINCODE_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "TALAAN_MSP_KINDS": '{"LTOMSP": "LTO", "HPGMSP": "HPG"}',
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "chaincode"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=20)

        async def connect() -> str:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                return await registers_as(channel)

        assert asyncio.run(asyncio.wait_for(connect(), 10)) == "talaan_1.0:abc123"
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, output
    assert "listening on 127.0.0.1" in output and "Stopped" in output
    assert "Look out" not in output  # the library's per-message chatter stays quiet


def test_missing_configuration_stops_the_server_with_a_message(caplog):
    assert main({"CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0"}) == 2
    assert "CHAINCODE_ID is not set" in caplog.text


@pytest.mark.parametrize(
    "environ,message",
    [
        ({"CHAINCODE_ID": "x"}, "CHAINCODE_SERVER_ADDRESS"),
        ({"CHAINCODE_TLS_KEY_FILE": "key"}, "both"),
        ({"CHAINCODE_TLS_CERT_FILE": "/nonexistent/cert.pem"}, "cannot read"),
    ],
)
def test_half_configured_servers_are_refused(environ, message, tmp_path):
    (tmp_path / "key").write_text("k")
    base = {"CHAINCODE_ID": "talaan:1", "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0"}
    environ = {
        key: str(tmp_path / value) if key == "CHAINCODE_TLS_KEY_FILE" else value
        for key, value in environ.items()
    }
    if "CHAINCODE_ID" in environ:
        base.pop("CHAINCODE_SERVER_ADDRESS")
    with pytest.raises(ConfigurationError, match=message):
        ServerConfig.from_env({**base, **environ})


def tls_material(tmp_path: Path) -> dict[str, Path]:
    ca_name = name((NameOID.COMMON_NAME, "tlsca.lto.talaan.example"))
    ca_pem, _, ca_key = certificate(ca_name, ca_name, ca=True)
    server_pem, server_key, _ = certificate(
        name((NameOID.COMMON_NAME, "chaincode")), ca_name, hosts=("chaincode",), signer=ca_key
    )
    client_pem, client_key, _ = certificate(
        name((NameOID.COMMON_NAME, "peer0.lto")), ca_name, signer=ca_key
    )
    files = {
        "ca": ca_pem,
        "server_cert": server_pem,
        "server_key": server_key,
        "client_cert": client_pem,
        "client_key": client_key,
    }
    for key, data in files.items():
        (tmp_path / key).write_bytes(data)
    return {key: tmp_path / key for key in files}


def test_mutual_tls_serves_a_peer_with_a_client_certificate_and_refuses_one_without(tmp_path):
    paths = tls_material(tmp_path)
    config = ServerConfig.from_env(
        {
            "CHAINCODE_ID": "talaan:tls",
            "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0",
            "CHAINCODE_TLS_KEY_FILE": str(paths["server_key"]),
            "CHAINCODE_TLS_CERT_FILE": str(paths["server_cert"]),
            "CHAINCODE_CLIENT_CA_CERT_FILE": str(paths["ca"]),
        }
    )
    options = (("grpc.ssl_target_name_override", "chaincode"),)

    async def scenario() -> tuple[str, bool]:
        server, port = build_server(config)
        await server.start()
        try:
            trusted = grpc.ssl_channel_credentials(
                paths["ca"].read_bytes(),
                paths["client_key"].read_bytes(),
                paths["client_cert"].read_bytes(),
            )
            async with grpc.aio.secure_channel(f"127.0.0.1:{port}", trusted, options) as ch:
                registered = await registers_as(ch)
            anonymous = grpc.ssl_channel_credentials(paths["ca"].read_bytes())
            async with grpc.aio.secure_channel(f"127.0.0.1:{port}", anonymous, options) as ch:
                try:
                    await asyncio.wait_for(ch.channel_ready(), 2)
                    refused = False
                except TimeoutError:
                    refused = True
            return registered, refused
        finally:
            await server.stop(0)

    registered, refused = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert registered == "talaan:tls"
    assert refused
