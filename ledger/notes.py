"""C2SP signed notes and tlog checkpoints, with Ed25519 keys (c2sp.org/signed-note,
c2sp.org/tlog-checkpoint): the format Go's golang.org/x/mod/sumdb/note reads.

A checkpoint is the text ``<origin>\\n<tree size>\\n<base64 root>\\n``; a signed note is that
text, a blank line, and one line per signature: ``— <key name> <base64(key id || signature)>``.
The key id is the first four bytes of SHA-256(key name || 0x0A || 0x01 || public key), so a
verifier picks the right key by name and id, and a rotated key never passes for the old one.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
_DASH = "\u2014"  # the em dash that starts every signature line


class NoteError(ValueError):
    """A note or checkpoint that is malformed or not signed by a key we accept."""


def key_id(name: str, public_key: Ed25519PublicKey) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key.public_bytes_raw())
    return int.from_bytes(digest.digest()[:4], "big")


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key string (``<name>+<hex id>+<base64 key>``) a client configures."""
    encoded = base64.b64encode(ED25519 + public_key.public_bytes_raw()).decode()
    return f"{name}+{key_id(name, public_key):08x}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        try:
            name, hex_id, encoded = vkey.strip().split("+")
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise NoteError(f"Not a verifier key: {vkey!r}") from exc
        if raw[:1] != ED25519 or len(raw) != 33:
            raise NoteError("Only Ed25519 verifier keys are accepted.")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if f"{verifier.key_id:08x}" != hex_id.lower():
            raise NoteError("The verifier key's id does not match its name and key.")
        return verifier


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    if not text.endswith("\n"):
        raise NoteError("A note's text ends with a newline.")
    signature = private_key.sign(text.encode())
    blob = struct.pack(">I", key_id(name, private_key.public_key())) + signature
    return f"{text}\n{_DASH} {name} {base64.b64encode(blob).decode()}\n"


def open_note(note: str, verifiers: list[Verifier]) -> str:
    """Return the text of ``note`` if one of ``verifiers`` signed it; raise NoteError if not."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("Not a signed note.")
    text += "\n"
    for line in signatures[:-1].split("\n"):
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if prefix != _DASH or not name or not encoded:
            raise NoteError("Malformed signature line.")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise NoteError("Malformed signature.") from exc
        if len(blob) != 68:
            continue
        (signer_id,) = struct.unpack(">I", blob[:4])
        for verifier in verifiers:
            if verifier.name == name and verifier.key_id == signer_id:
                try:
                    verifier.public_key.verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise NoteError(f"The signature by {name} does not verify.") from None
                return text
    raise NoteError("The note is not signed by any key we accept.")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        try:
            origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
        except (IndexError, ValueError) as exc:
            raise NoteError("Not a checkpoint.") from exc
        if not origin or size < 0 or len(root) != 32 or str(size) != lines[1]:
            raise NoteError("Not a checkpoint.")
        return cls(origin, size, root)


def signed_parts(note: str) -> tuple[str, bytes]:
    """The text of a note and the raw signature of its first signature line (unchecked)."""
    text, _, signatures = note.rpartition("\n\n")
    encoded = signatures.split("\n")[0].rsplit(" ", 1)[-1]
    return text + "\n", base64.b64decode(encoded)[4:]
