"""Envelope encryption of documents before they are stored where anyone could read them."""

from __future__ import annotations

import base64
import json
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from registry.storage.sealing import SealBroken, master_key_id, seal, unseal

KEY = "6f" * 32
OTHER_KEY = "a1" * 32
DOCUMENT_ID = bytes.fromhex("5b0c6a2e9f3d4e1a8c7b6d5e4f3a2b1c")


@pytest.fixture(autouse=True)
def master_key():
    with override_settings(DOCUMENT_MASTER_KEY=KEY):
        yield KEY


def test_sealed_document_unseals_to_the_same_bytes():
    plaintext = os.urandom(50_000)

    sealed = seal(plaintext, associated_data=DOCUMENT_ID)

    assert plaintext not in sealed.ciphertext
    assert len(sealed.ciphertext) == len(plaintext) + 16  # the GCM tag
    assert unseal(sealed.ciphertext, sealed.metadata, associated_data=DOCUMENT_ID) == plaintext


def test_metadata_is_json_and_names_the_master_key():
    sealed = seal(b"evidence", associated_data=DOCUMENT_ID)

    restored = json.loads(json.dumps(sealed.metadata))

    assert unseal(sealed.ciphertext, restored, associated_data=DOCUMENT_ID) == b"evidence"
    assert restored["alg"] == restored["wrap_alg"] == "AES-256-GCM"
    assert restored["key_id"] == master_key_id(bytes.fromhex(KEY))
    assert len(restored["key_id"]) == 16
    assert len(base64.b64decode(restored["nonce"])) == 12
    assert len(base64.b64decode(restored["wrapped_key"])) == 32 + 16


def test_every_seal_uses_fresh_nonces_and_a_fresh_document_key():
    seals = [seal(b"same bytes", associated_data=DOCUMENT_ID) for _ in range(50)]

    assert len({s.metadata["nonce"] for s in seals}) == 50
    assert len({s.metadata["wrap_nonce"] for s in seals}) == 50
    assert len({s.metadata["wrapped_key"] for s in seals}) == 50
    assert len({s.ciphertext for s in seals}) == 50


def test_tampered_ciphertext_is_refused():
    sealed = seal(b"deed of sale", associated_data=DOCUMENT_ID)
    tampered = bytearray(sealed.ciphertext)
    tampered[3] ^= 0x01

    with pytest.raises(SealBroken, match="does not decrypt"):
        unseal(bytes(tampered), sealed.metadata, associated_data=DOCUMENT_ID)


@pytest.mark.parametrize("field", ["nonce", "wrapped_key", "wrap_nonce"])
def test_tampered_metadata_is_refused(field):
    sealed = seal(b"deed of sale", associated_data=DOCUMENT_ID)
    raw = bytearray(base64.b64decode(sealed.metadata[field]))
    raw[0] ^= 0x80
    metadata = sealed.metadata | {field: base64.b64encode(bytes(raw)).decode()}

    with pytest.raises(SealBroken):
        unseal(sealed.ciphertext, metadata, associated_data=DOCUMENT_ID)


def test_missing_or_unknown_metadata_is_refused():
    sealed = seal(b"x", associated_data=DOCUMENT_ID)

    with pytest.raises(SealBroken, match="'nonce' is missing or malformed"):
        unseal(sealed.ciphertext, sealed.metadata | {"nonce": "%%%"}, associated_data=DOCUMENT_ID)
    with pytest.raises(SealBroken, match="Unknown sealing algorithm"):
        unseal(sealed.ciphertext, sealed.metadata | {"alg": "none"}, associated_data=DOCUMENT_ID)


def test_file_moved_to_another_document_is_refused():
    sealed = seal(b"insurance COC", associated_data=DOCUMENT_ID)

    with pytest.raises(SealBroken):
        unseal(sealed.ciphertext, sealed.metadata, associated_data=b"another document id")


def test_wrong_master_key_is_refused_naming_both_key_ids():
    sealed = seal(b"HPG clearance", associated_data=DOCUMENT_ID)

    with override_settings(DOCUMENT_MASTER_KEY=OTHER_KEY), pytest.raises(SealBroken) as caught:
        unseal(sealed.ciphertext, sealed.metadata, associated_data=DOCUMENT_ID)

    assert master_key_id(bytes.fromhex(KEY)) in str(caught.value)
    assert master_key_id(bytes.fromhex(OTHER_KEY)) in str(caught.value)


def test_forged_key_id_does_not_open_the_document():
    sealed = seal(b"HPG clearance", associated_data=DOCUMENT_ID)
    forged = sealed.metadata | {"key_id": master_key_id(bytes.fromhex(OTHER_KEY))}

    with (
        override_settings(DOCUMENT_MASTER_KEY=OTHER_KEY),
        pytest.raises(SealBroken, match="unwrap"),
    ):
        unseal(sealed.ciphertext, forged, associated_data=DOCUMENT_ID)


@pytest.mark.parametrize("bad_key", ["", "6f" * 31, "zz" * 32, "6f" * 33, None])
def test_malformed_master_key_is_refused(bad_key):
    with override_settings(DOCUMENT_MASTER_KEY=bad_key), pytest.raises(ImproperlyConfigured):
        seal(b"x", associated_data=DOCUMENT_ID)
