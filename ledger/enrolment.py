"""Certificates that carry Fabric CA attributes, as the dealers' CA enrols them.

A Fabric CA writes a registered identity's ``ecert`` attributes into its certificate as JSON
(``{"attrs": {...}}``) under the extension 1.2.3.4.5.6.7.8.1, and the chaincode reads them with
``cid`` (our ``chaincode.fabric_shim_fixes.ClientIdentity``). The embedded ledger is its own
single endorser and checks no signature, so it stands a dealer's or lender's identity up with a
certificate of this shape; on Fabric the certificate comes from the CA with its key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from chaincode.rules import MEMBER_ATTRIBUTES, msp_kinds

FABRIC_CA_ATTRIBUTES_OID = ObjectIdentifier("1.2.3.4.5.6.7.8.1")


def attribute_extension(attributes: dict[str, str]) -> x509.UnrecognizedExtension:
    """The extension a Fabric CA adds for an identity's ``ecert`` attributes."""
    document = json.dumps({"attrs": attributes}, separators=(",", ":")).encode()
    return x509.UnrecognizedExtension(FABRIC_CA_ATTRIBUTES_OID, document)


def certificate_with_attributes(
    *, msp_id: str, common_name: str, attributes: dict[str, str], key: ec.EllipticCurvePrivateKey
) -> bytes:
    """A self-issued PEM certificate for ``common_name`` of ``msp_id`` with these attributes."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, msp_id),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(attribute_extension(attributes), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@lru_cache(maxsize=512)
def member_certificate(msp_id: str, member: str) -> bytes:
    """The embedded ledger's stand-in for a dealer's or lender's enrolled certificate: its
    kind's attribute (``talaan.dealer``, ``talaan.lender``) names ``member``. An MSP of
    another kind gets a certificate with no Talaan attribute."""
    attribute = MEMBER_ATTRIBUTES.get(msp_kinds().get(msp_id, ""), "")
    return certificate_with_attributes(
        msp_id=msp_id,
        common_name=member,
        attributes={attribute: member} if attribute else {},
        key=ec.generate_private_key(ec.SECP256R1()),
    )
