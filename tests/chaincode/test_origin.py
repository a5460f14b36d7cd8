"""RecordOrigin through the real shim over gRPC: a dealer is named by its certificate's
attribute (Fabric attribute-based access control), never by an argument."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.enrolment import certificate_with_attributes
from tests.chaincode.shim_peer import ScriptedPeer, start_server

VIN = "JTDBR32E720012345"
DIGEST = "d" * 64


def certificate(msp_id: str, attributes: dict[str, str]) -> bytes:
    return certificate_with_attributes(
        msp_id=msp_id,
        common_name="officer",
        attributes=attributes,
        key=ec.generate_private_key(ec.SECP256R1()),
    )


DEALER_A = certificate("DealerMSP", {"talaan.dealer": "toyota-manila-bay"})
DEALER_B = certificate("DealerMSP", {"talaan.dealer": "honda-cebu"})
NO_ATTRIBUTE = certificate("DealerMSP", {"hf.Affiliation": "dealers"})
HPG_WITH_ATTRIBUTE = certificate("HPGMSP", {"talaan.dealer": "toyota-manila-bay"})


def run_calls(*calls: tuple[str, bytes, tuple[str, ...]]) -> list[Any]:
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


def test_a_dealer_records_an_origin_signed_as_the_dealer_its_certificate_names():
    recorded, read = run_calls(
        ("DealerMSP", DEALER_A, ("RecordOrigin", VIN, DIGEST, "o1")),
        ("LTOMSP", b"", ("GetOrigin", VIN)),
    )
    assert recorded.status == 200, recorded.message
    origin = json.loads(read.payload)
    assert (origin["dealer"], origin["msp_id"], origin["record_digest"]) == (
        "toyota-manila-bay",
        "DealerMSP",
        DIGEST,
    )


@pytest.mark.parametrize(
    ("msp", "cert", "message"),
    [
        ("DealerMSP", NO_ATTRIBUTE, "names no dealer (attribute talaan.dealer)"),
        ("DealerMSP", b"", "names no dealer"),
        ("HPGMSP", HPG_WITH_ATTRIBUTE, "Only an accredited dealer records a vehicle's origin"),
        ("LTOMSP", b"", "Only an accredited dealer"),
    ],
)
def test_an_origin_is_refused_without_a_dealers_identity(msp, cert, message):
    refused, read = run_calls(
        (msp, cert, ("RecordOrigin", VIN, DIGEST, "o1")), ("LTOMSP", b"", ("GetOrigin", VIN))
    )
    assert refused.status == 500 and message in refused.message
    assert "is not on the ledger" in read.message


def test_one_origin_per_vin_and_none_after_a_registration():
    first, again, other_dealer, _, late = run_calls(
        ("DealerMSP", DEALER_A, ("RecordOrigin", VIN, DIGEST, "o1")),
        ("DealerMSP", DEALER_A, ("RecordOrigin", VIN, DIGEST, "o1")),
        ("DealerMSP", DEALER_B, ("RecordOrigin", VIN, "e" * 64, "o2")),
        ("LTOMSP", b"", ("RegisterVehicle", "1HGCM82633A004352", "b" * 64, "r1", "f" * 64)),
        ("DealerMSP", DEALER_B, ("RecordOrigin", "1HGCM82633A004352", DIGEST, "o3")),
    )
    assert json.loads(again.payload)["replayed"] is True
    assert json.loads(again.payload)["tx_id"] == json.loads(first.payload)["tx_id"]
    assert "already has an origin record" in other_dealer.message
    assert "is already on the ledger" in late.message
