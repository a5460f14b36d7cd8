"""Envelope encryption of documents before they go where anyone could read them (IPFS).

Each document gets its own random 256-bit key; the file is encrypted with it (AES-256-GCM),
and the key is wrapped by the master key from settings (AES-256-GCM too, with its own nonce).
Only the ciphertext is stored; the metadata (nonces, wrapped key, master key id) goes in the
database. Both encryptions bind ``associated_data`` (the document's id), so a stored file or a
wrapped key moved to another document is refused.

New seals use DOCUMENT_MASTER_KEY; DOCUMENT_PREVIOUS_MASTER_KEYS still open what was sealed
before a rotation, until ``rewrap`` (manage.py rewrap_document_keys) has moved every document
key under the current one. ``key_id`` (the first 16 hex characters of the key's SHA-256) names
the key in the metadata, so a document sealed under a key we no longer hold is named clearly
instead of failing as "tampered".
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
    document_key = _unwrap(metadata, associated_data)
    nonce = _unb64(metadata, "nonce")
    try:
        return AESGCM(document_key).decrypt(nonce, ciphertext, associated_data)
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(
            "The stored file does not decrypt: it was altered, or belongs to another document."
        ) from exc


def rewrap(metadata: dict[str, Any], *, associated_data: bytes) -> dict[str, str]:
    """The same seal with its document key wrapped by the current master key instead.

    The file's ciphertext (and so its CID) does not change: only the wrapped key, its nonce
    and the key id do.
    """
    document_key = _unwrap(metadata, associated_data)
    master_key, key_id = _master_key()
    wrap_nonce = os.urandom(NONCE_BYTES)
    wrapped_key = AESGCM(master_key).encrypt(wrap_nonce, document_key, _wrap_aad(associated_data))
    return {
        **metadata,
        "wrapped_key": _b64(wrapped_key),
        "wrap_nonce": _b64(wrap_nonce),
        "key_id": key_id,
    }


def current_key_id() -> str:
    return _master_key()[1]


def _unwrap(metadata: dict[str, Any], associated_data: bytes) -> bytes:
    if metadata.get("alg") != ALGORITHM or metadata.get("wrap_alg") != ALGORITHM:
        raise SealBroken(
            f"Unknown sealing algorithm {metadata.get('alg')!r}/{metadata.get('wrap_alg')!r}."
        )
    keys = _readable_keys()
    master_key = keys.get(str(metadata.get("key_id")))
    if master_key is None:
        raise SealBroken(
            f"Sealed under master key {metadata.get('key_id')!r}, which is neither "
            f"DOCUMENT_MASTER_KEY ({_master_key()[1]!r}) nor one of "
            "DOCUMENT_PREVIOUS_MASTER_KEYS."
        )
    wrap_nonce = _unb64(metadata, "wrap_nonce")
    wrapped_key = _unb64(metadata, "wrapped_key")
    try:
        return AESGCM(master_key).decrypt(wrap_nonce, wrapped_key, _wrap_aad(associated_data))
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(
            "The document key does not unwrap: its metadata was altered or belongs to "
            "another document."
        ) from exc


def master_key_id(master_key: bytes) -> str:
    """How metadata names a master key without revealing it."""
    return hashlib.sha256(master_key).hexdigest()[:16]


def _master_key() -> tuple[bytes, str]:
    # Read at call time, never at import (settings may change, e.g. in tests).
    key = _parsed_key(settings.DOCUMENT_MASTER_KEY, "DOCUMENT_MASTER_KEY")
    return key, master_key_id(key)


def _readable_keys() -> dict[str, bytes]:
    """Every master key a seal may name: the current one and those rotated out."""
    keys = [_master_key()[0]]
    keys += [
        _parsed_key(value, "DOCUMENT_PREVIOUS_MASTER_KEYS")
        for value in settings.DOCUMENT_PREVIOUS_MASTER_KEYS
    ]
    return {master_key_id(key): key for key in keys}


def _parsed_key(value: object, setting: str) -> bytes:
    try:
        key = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"{setting} must hold 64 hexadecimal characters (32 bytes) per key, e.g. the output "
            "of `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    return key


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
