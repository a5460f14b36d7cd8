"""The key the LTO signs credentials with, and the public keys it publishes.

The private key is the ``CREDENTIAL_SIGNING_KEY`` setting (PEM: EC P-256 signs ES256, Ed25519
signs EdDSA). With DEBUG on and none set, one is generated once and kept under var/, like the
other development secrets, so credentials downloaded yesterday still verify today. Each key's
``kid`` is its RFC 9278 JWK thumbprint URI: any verifier can recompute it from the published
key, and it stays the same wherever the JWK set is served from.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.conf import settings

from kernel.errors import DomainError

THUMBPRINT_URI_PREFIX = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
# RFC 7638: the members that make a key's thumbprint, per key type.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}

SigningPrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class SigningKeyMissing(DomainError):
    """No usable signing key is configured: nothing is signed until an operator sets one."""

    code = "credential_signing_unavailable"
    http_status = 503
    default_message = "Credentials cannot be issued right now."


@dataclass(frozen=True)
class SigningKey:
    private_key: SigningPrivateKey
    algorithm: str  # the JWS "alg"
    public_jwk: dict[str, str]  # with "kid", "alg" and "use"

    @property
    def kid(self) -> str:
        return self.public_jwk["kid"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint_uri(jwk: dict[str, Any]) -> str:
    """The key's RFC 7638 SHA-256 thumbprint as an RFC 9278 URI."""
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return THUMBPRINT_URI_PREFIX + _b64url(hashlib.sha256(canonical.encode()).digest())


def _public_jwk(private_key: SigningPrivateKey) -> tuple[str, dict[str, str]]:
    public = private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        if not isinstance(public.curve, ec.SECP256R1):
            raise SigningKeyMissing(
                "CREDENTIAL_SIGNING_KEY must be an EC P-256 or an Ed25519 private key."
            )
        numbers = public.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
        algorithm = "ES256"
    else:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
        algorithm = "EdDSA"
    return algorithm, {**jwk, "kid": thumbprint_uri(jwk), "alg": algorithm, "use": "sig"}


@functools.lru_cache(maxsize=4)
def _parsed(pem: str) -> SigningKey:
    try:
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyMissing(
            "CREDENTIAL_SIGNING_KEY is not a readable, unencrypted PEM private key."
        ) from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise SigningKeyMissing(
            "CREDENTIAL_SIGNING_KEY must be an EC P-256 or an Ed25519 private key."
        )
    algorithm, jwk = _public_jwk(private_key)
    return SigningKey(private_key=private_key, algorithm=algorithm, public_jwk=jwk)


def _development_key(path: Path) -> str:
    """The generated development key, created once (readable by this user only)."""
    if not path.exists():
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process generated it first: use theirs
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
    return path.read_text()


def configured_pem() -> str | None:
    if settings.CREDENTIAL_SIGNING_KEY:
        return settings.CREDENTIAL_SIGNING_KEY
    if settings.CREDENTIAL_DEV_KEY_FILE is not None:
        return _development_key(Path(settings.CREDENTIAL_DEV_KEY_FILE))
    return None


def signing_key() -> SigningKey:
    """The current signing key; a clear 503 when none is configured."""
    pem = configured_pem()
    if pem is None:
        raise SigningKeyMissing(
            "Credentials cannot be issued: the LTO's signing key (CREDENTIAL_SIGNING_KEY) is "
            "not configured on this server."
        )
    return _parsed(pem)


def retired_public_keys() -> list[dict[str, Any]]:
    """Public keys rotated out, still published so credentials they signed keep verifying."""
    raw = settings.CREDENTIAL_RETIRED_JWKS
    if not raw:
        return []
    try:
        keys = json.loads(raw)["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SigningKeyMissing(
            'CREDENTIAL_RETIRED_JWKS must be a JSON JWK set: {"keys": [...]}.'
        ) from exc
    published = []
    for jwk in keys:
        # Only the public members: a private "d" pasted in by mistake is never published.
        public = {name: jwk[name] for name in ("kty", "crv", "x", "y", "alg") if name in jwk}
        published.append({**public, "kid": jwk.get("kid") or thumbprint_uri(public), "use": "sig"})
    return published


def published_jwks() -> dict[str, list[dict[str, Any]]]:
    """The JWK set: the current key first, then the retired ones (by kid, no duplicates)."""
    published: dict[str, dict[str, Any]] = {}
    for jwk in [signing_key().public_jwk, *retired_public_keys()]:
        published.setdefault(jwk["kid"], jwk)
    return {"keys": list(published.values())}
