"""An organisation's client identity: its X.509 certificate, MSP id and ECDSA signing key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp.identities_pb2 import SerializedIdentity

# Order of the P-256 group. Fabric accepts only signatures with S in the lower half.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_HALF_ORDER = P256_ORDER >> 1


class IdentityMissing(LookupError):
    """No client identity is configured for an organisation's MSP id."""


def low_s(signature: bytes) -> bytes:
    """Return the DER signature with S moved to the lower half of the group order.

    ``cryptography`` returns either of the two valid S values; a Fabric peer refuses the high
    one and answers with a misleading "access denied".
    """
    r, s = decode_dss_signature(signature)
    if s > P256_HALF_ORDER:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


def is_low_s(signature: bytes) -> bool:
    _, s = decode_dss_signature(signature)
    return s <= P256_HALF_ORDER


@dataclass(frozen=True)
class Identity:
    """A signing identity: what goes in a proposal's creator field, and its private key."""

    msp_id: str
    certificate: bytes
    private_key: ec.EllipticCurvePrivateKey

    @cached_property
    def creator(self) -> bytes:
        """The serialized identity (msp.SerializedIdentity) a peer checks signatures against."""
        return SerializedIdentity(mspid=self.msp_id, id_bytes=self.certificate).SerializeToString()

    def sign(self, message: bytes) -> bytes:
        """ECDSA over SHA-256, DER encoded, with low S."""
        return low_s(self.private_key.sign(message, ec.ECDSA(hashes.SHA256())))


def identity_folder(directory: Path, msp_id: str, name: str = "") -> Path:
    """Where an identity's files live: ``<directory>/<msp_id>/`` for an organisation's one
    identity, ``<directory>/<msp_id>/<name>/`` for one of an MSP's several (a dealer's)."""
    if name and (name in (".", "..") or "/" in name or "\\" in name):
        raise IdentityMissing(f"{name!r} cannot name a client identity of {msp_id}.")
    return directory / msp_id / name if name else directory / msp_id


def load_identity(directory: Path, msp_id: str, name: str = "") -> Identity:
    """Read ``cert.pem`` and ``key.pem`` from the identity's folder (see identity_folder)."""
    folder = identity_folder(directory, msp_id, name)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    if not cert_file.is_file() or not key_file.is_file():
        whose = f"{name} of {msp_id}" if name else msp_id
        raise IdentityMissing(
            f"No client identity for {whose}: expected {cert_file} and {key_file}."
        )
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityMissing(f"{key_file} is not an ECDSA private key.")
    return Identity(msp_id=msp_id, certificate=cert_file.read_bytes(), private_key=key)
