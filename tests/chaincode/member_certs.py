"""Certificates with Fabric CA attributes, and a runner that signs each call with one."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.enrolment import certificate_with_attributes
from tests.chaincode.shim_peer import ScriptedPeer, start_server


def certificate(msp_id: str, attributes: dict[str, str]) -> bytes:
    return certificate_with_attributes(
        msp_id=msp_id,
        common_name="officer",
        attributes=attributes,
        key=ec.generate_private_key(ec.SECP256R1()),
    )


def run_signed(*calls: tuple[str, bytes, tuple[str, ...]]) -> list[Any]:
    """Run (msp id, certificate, args) calls in order on one connection; return the answers."""

    async def scenario() -> list[Any]:
        server, address = await start_server()
        try:
            async with grpc.aio.insecure_channel(address) as ch, ScriptedPeer(ch) as peer:
                return [
                    (await peer.invoke(*args, msp_id=msp, certificate=cert))[0]
                    for msp, cert, args in calls
                ]
        finally:
            await server.stop(0)

    return asyncio.run(asyncio.wait_for(scenario(), 20))
