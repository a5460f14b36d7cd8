"""Certificates made on the spot for identity and TLS tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chaincode.fabric_shim_fixes import FABRIC_CA_ATTRIBUTES_OID


def name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(*p)]) for p in pairs])


def certificate(
    subject: x509.Name,
    issuer: x509.Name,
    *,
    attributes: dict[str, str] | None = None,
    hosts: tuple[str, ...] = (),
    ca: bool = False,
    signer: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[bytes, bytes, ec.EllipticCurvePrivateKey]:
    """Return (certificate PEM, key PEM, key); self-signed unless a signer is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if attributes is not None:
        value = json.dumps({"attrs": attributes}).encode()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(FABRIC_CA_ATTRIBUTES_OID, value), critical=False
        )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host) for host in hosts]), critical=False
        )
    cert = builder.sign(signer or key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem, key


LTO_CA = name(
    (NameOID.COUNTRY_NAME, "PH"),
    (NameOID.STATE_OR_PROVINCE_NAME, "Metro Manila"),
    (NameOID.LOCALITY_NAME, "Quezon City"),
    (NameOID.ORGANIZATION_NAME, "lto.talaan.example"),
    (NameOID.COMMON_NAME, "ca.lto.talaan.example"),
)
