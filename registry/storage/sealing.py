"""Envelope encryption of documents before they go where anyone could read them (IPFS).

Each document gets its own random 256-bit key; the file is encrypted with it (AES-256-GCM),
and the key is wrapped by the master key from settings (AES-256-GCM too, with its own nonce).
Only the ciphertext is stored; the metadata (nonces, wrapped key, master key id) goes in the
database. Both encryptions bind ``associated_data`` (the document's id), so a stored file or a
wrapped key moved to another document is refused.

One master key at a time: ``key_id`` (the first 16 hex characters of its SHA-256) lets a
document sealed under another key be named clearly instead of failing as "tampered".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12
_WRAP_CONTEXT = b"talaan document key wrap\x00"


class SealBroken(ValueError):
    """A sealed document cannot be opened: wrong master key, or ciphertext or metadata altered."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    metadata: dict[str, str]


def seal(plaintext: bytes, *, associated_data: bytes) -> Sealed:
    """Encrypt ``plaintext`` under a new document key, wrapped by the master key."""
    master_key, key_id = _master_key()
    document_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    wrap_nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(document_key).encrypt(nonce, plaintext, associated_data)
    wrapped_key = AESGCM(master_key).encrypt(wrap_nonce, document_key, _wrap_aad(associated_data))
    metadata = {
        "alg": ALGORITHM,
        "nonce": _b64(nonce),
        "wrapped_key": _b64(wrapped_key),
        "wrap_alg": ALGORITHM,
        "wrap_nonce": _b64(wrap_nonce),
        "key_id": key_id,
    }
    return Sealed(ciphertext=ciphertext, metadata=metadata)


def unseal(ciphertext: bytes, metadata: dict[str, Any], *, associated_data: bytes) -> bytes:
    """Decrypt what ``seal`` produced; SealBroken if anything does not check out."""
    master_key, key_id = _master_key()
    if metadata.get("alg") != ALGORITHM or metadata.get("wrap_alg") != ALGORITHM:
        raise SealBroken(
            f"Unknown sealing algorithm {metadata.get('alg')!r}/{metadata.get('wrap_alg')!r}."
        )
    if metadata.get("key_id") != key_id:
        raise SealBroken(
            f"Sealed under master key {metadata.get('key_id')!r}, but the configured "
            f"DOCUMENT_MASTER_KEY is {key_id!r}."
        )
    nonce = _unb64(metadata, "nonce")
    wrap_nonce = _unb64(metadata, "wrap_nonce")
    wrapped_key = _unb64(metadata, "wrapped_key")
    try:
        document_key = AESGCM(master_key).decrypt(
            wrap_nonce, wrapped_key, _wrap_aad(associated_data)
        )
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(
            "The document key does not unwrap: its metadata was altered or belongs to "
            "another document."
        ) from exc
    try:
        return AESGCM(document_key).decrypt(nonce, ciphertext, associated_data)
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(
            "The stored file does not decrypt: it was altered, or belongs to another document."
        ) from exc


def master_key_id(master_key: bytes) -> str:
    """How metadata names a master key without revealing it."""
    return hashlib.sha256(master_key).hexdigest()[:16]


def _master_key() -> tuple[bytes, str]:
    # Read at call time, never at import (settings may change, e.g. in tests).
    value = settings.DOCUMENT_MASTER_KEY
    try:
        key = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            "DOCUMENT_MASTER_KEY must be 64 hexadecimal characters (32 bytes), e.g. the output "
            "of `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    return key, master_key_id(key)


def _wrap_aad(associated_data: bytes) -> bytes:
    # Separates the key-wrapping context from the file's, and binds the key to its document.
    return _WRAP_CONTEXT + associated_data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(metadata: dict[str, Any], field: str) -> bytes:
    try:
        return base64.b64decode(str(metadata[field]), validate=True)
    except (KeyError, binascii.Error, ValueError) as exc:
        raise SealBroken(f"Sealing metadata field {field!r} is missing or malformed.") from exc
