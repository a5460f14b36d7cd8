"""The Certificate of Registration as a W3C Verifiable Credential 2.0, and its status list,
each secured as ``application/vc+jwt`` (W3C VC-JOSE-COSE): a compact JWS whose payload is the
credential itself, with header ``typ: vc+jwt``, ``cty: vc`` and the ``kid`` of the key in the
published JWK set.

What the credential says: the vehicle as the CR describes it (plate, MV file number, VIN,
make, model, year), the CR's number, and the owner's name. The name is on every printed CR and
the credential is worth nothing to a buyer or an officer without it; nothing else about the
owner is (no address, e-mail, mobile or account id), and the registration period is not in it
either: that is renewed without a new CR, and the verify page at the credential's ``id`` shows
it. The JWT claims are the credential's own members plus ``iss`` (the issuer's id, as the spec
allows for key discovery) and ``iat``; never ``vc`` (the spec forbids it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from registry import status_list
from registry.credential_keys import signing_key
from registry.models import Certificate

MEDIA_TYPE = "application/vc+jwt"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def _url(path: str) -> str:
    return settings.CREDENTIAL_ISSUER_URL + path


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer() -> dict[str, str]:
    return {"id": settings.CREDENTIAL_ISSUER_URL, "name": settings.CREDENTIAL_ISSUER_NAME}


def _vocabulary() -> dict[str, str]:
    """Our terms, so the credential is well-formed JSON-LD without a remote context."""
    base = _url("/credentials/vocab#")
    terms = ["CertificateOfRegistration", "Vehicle", "certificateNumber", "plateNumber"]
    terms += ["mvFileNumber", "registeredOwner"]
    return {
        **{term: base + term for term in terms},
        "vin": "https://schema.org/vehicleIdentificationNumber",
        "make": "https://schema.org/brand",
        "model": "https://schema.org/model",
        "modelYear": "https://schema.org/vehicleModelDate",
    }


def status_list_url(list_number: int) -> str:
    return _url(reverse("credential-status-list", args=[list_number]))


def certificate_credential(certificate: Certificate) -> dict[str, Any]:
    """The unsecured credential for a CR (draws its status list index if it has none)."""
    index = status_list.index_of(certificate)
    list_number, _ = status_list.list_and_bit(index)
    vehicle = certificate.vehicle
    owner = certificate.owner
    list_url = status_list_url(list_number)
    subject: dict[str, Any] = {
        "type": "Vehicle",
        "certificateNumber": certificate.number,
        "vin": vehicle.vin,
        "make": vehicle.make,
        "model": vehicle.model,
        "modelYear": vehicle.year,
        "registeredOwner": {"name": owner.get_full_name() or owner.get_username()},
    }
    if vehicle.plate_number:
        subject["plateNumber"] = vehicle.plate_number
    if vehicle.mv_file_number:
        subject["mvFileNumber"] = vehicle.mv_file_number
    return {
        "@context": [VC_CONTEXT, _vocabulary()],
        "id": _url(reverse("verify", args=[certificate.number])),
        "type": ["VerifiableCredential", "CertificateOfRegistration"],
        "issuer": issuer(),
        "name": f"Certificate of Registration {certificate.number}",
        "validFrom": _timestamp(certificate.issued_at),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{list_url}#{index % status_list.LIST_SIZE}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": status_list.STATUS_PURPOSE,
            "statusListIndex": str(index % status_list.LIST_SIZE),
            "statusListCredential": list_url,
        },
    }


def status_list_credential(list_number: int, at: datetime | None = None) -> dict[str, Any]:
    """The unsecured status list credential, from the certificates' statuses as they are now."""
    at = at or timezone.now()
    url = status_list_url(list_number)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer(),
        "validFrom": _timestamp(at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.STATUS_PURPOSE,
            "encodedList": status_list.encoded_list(status_list.revoked_bits(list_number)),
        },
    }


def secured(credential: dict[str, Any], at: datetime | None = None) -> str:
    """The credential as a vc+jwt (JWS compact serialization), signed with the current key."""
    key = signing_key()
    at = at or timezone.now()
    claims = {**credential, "iss": credential["issuer"]["id"], "iat": int(at.timestamp())}
    return jwt.encode(
        claims,
        key.private_key,
        algorithm=key.algorithm,
        headers={"typ": "vc+jwt", "cty": "vc", "kid": key.kid},
    )


def issuer_metadata() -> dict[str, str]:
    """What a verifier finds at /.well-known/jwt-vc-issuer (the spec's well-known URI)."""
    return {
        "issuer": settings.CREDENTIAL_ISSUER_URL,
        "jwks_uri": _url(reverse("credential-jwks")),
    }
