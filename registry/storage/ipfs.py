"""Documents on IPFS, through a Kubo node's HTTP RPC API (``/api/v0/...``) with httpx.

The location recorded for a document is its CID, as Kubo computes it. Kubo's own import
settings decide the CID's form (CIDv0 by default; ``Import.CidVersion`` and
``Import.UnixFSRawLeaves`` in the node's config switch to CIDv1 with raw leaves), so this
module sends only the hash function and asks for a pin.

Reads pass ``offline=true``: a document we stored is pinned on our node, and asking the
network for one that is not would wait until the timeout instead of saying it is missing.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

import httpx
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from registry.storage.errors import StorageUnavailable

STORE = "IPFS"

# Kubo answers every command error with HTTP 500 and a JSON body; these phrases in its
# message mean the CID is not (or no longer) here, or cannot name anything at all.
_MISSING = ("not found locally", "could not find", "not pinned", "invalid path", "invalid cid")


class KuboError(Exception):
    """Kubo refused a command and said why (its JSON error body's ``Message``)."""

    def __init__(self, command: str, message: str, status: int) -> None:
        self.command = command
        self.kubo_message = message
        self.status = status
        super().__init__(f"{command}: {message}")

    @property
    def means_missing(self) -> bool:
        text = self.kubo_message.lower()
        return any(phrase in text for phrase in _MISSING)


@deconstructible(path="registry.storage.ipfs.IpfsStorage")
class IpfsStorage(Storage):
    """Adds, pins, reads and unpins documents on one Kubo node."""

    # Anyone who learns a CID can fetch the content from any node that has it.
    content_is_public = True

    def __init__(self, *, api_url: str, timeout: float = 30) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    # -- writing -----------------------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # The CID is the location, so the name can never collide; asking Kubo whether
        # "documents/<uuid>" exists would only waste a round trip.
        return name

    def _save(self, name: str, content: File) -> str:
        if hasattr(content, "seek"):
            content.seek(0)
        filename = posixpath.basename(name) or "document"
        files = {"file": (filename, content, "application/octet-stream")}
        params = {"pin": "true", "hash": "sha2-256", "progress": "false"}
        try:
            response = self._rpc("add", params, files=files)
        except KuboError as exc:
            raise self._translate(exc, name, missing_is_an_error=False) from exc
        # Kubo streams one JSON object per added entry; the last one is the file itself.
        lines = [line for line in response.text.splitlines() if line.strip()]
        if not lines:
            raise StorageUnavailable(STORE, "add answered without a CID")
        return json.loads(lines[-1])["Hash"]

    def delete(self, name: str) -> None:
        """Unpin the CID: the node may then drop its blocks; copies elsewhere are beyond reach."""
        try:
            self._rpc("pin/rm", {"arg": name})
        except KuboError as exc:
            if not exc.means_missing:
                raise self._translate(exc, name) from exc

    # -- reading -----------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode != "rb":
            raise ValueError(f"IPFS content is immutable; open it with mode 'rb', not {mode!r}.")
        try:
            response = self._rpc("cat", {"arg": name, "offline": "true"})
        except KuboError as exc:
            raise self._translate(exc, name) from exc
        return ContentFile(response.content, name=name)

    def exists(self, name: str) -> bool:
        """Whether our node pins the CID (unpinned blocks may vanish at the next GC)."""
        try:
            response = self._rpc("pin/ls", {"arg": name, "type": "recursive", "offline": "true"})
        except KuboError as exc:
            if exc.means_missing:
                return False
            raise self._translate(exc, name) from exc
        keys = response.json().get("Keys") or {}
        return bool(keys)

    def size(self, name: str) -> int:
        try:
            response = self._rpc("files/stat", {"arg": f"/ipfs/{name}", "offline": "true"})
        except KuboError as exc:
            raise self._translate(exc, name) from exc
        return int(response.json()["Size"])

    def url(self, name: str | None) -> str:
        raise NotImplementedError(
            "Documents are served only through the app, which checks permissions and integrity."
        )

    # -- transport ---------------------------------------------------------------------

    def _rpc(
        self, command: str, params: dict[str, str], *, files: dict[str, Any] | None = None
    ) -> httpx.Response:
        """POST one RPC command and return Kubo's successful answer.

        Transport failures and 5xx without a Kubo error body (a proxy's) become
        StorageUnavailable; Kubo's own error answers (500 for command errors, 400 for bad
        arguments) become KuboError, for the caller to translate.
        """
        url = f"{self.api_url}/api/v0/{command}"
        try:
            with httpx.Client(timeout=self.timeout) as client:
                response = client.post(url, params=params, files=files)
        except httpx.HTTPError as exc:
            raise StorageUnavailable(STORE, f"{command}: {exc.__class__.__name__}: {exc}") from exc
        if response.is_success:
            return response
        kubo_message = _kubo_error_message(response)
        if kubo_message is not None:
            raise KuboError(command, kubo_message, response.status_code)
        if response.status_code >= 500:
            raise StorageUnavailable(STORE, f"{command}: HTTP {response.status_code}")
        # A 4xx means this code sent something Kubo does not accept: a bug, not an outage.
        detail = response.text[:200]
        raise RuntimeError(f"Kubo refused {command} with HTTP {response.status_code}: {detail}")

    @staticmethod
    def _translate(exc: KuboError, name: str, *, missing_is_an_error: bool = True) -> Exception:
        """What Kubo's refusal means here: missing document, outage, or a bug of ours."""
        if exc.means_missing and missing_is_an_error:
            return FileNotFoundError(
                f"No document with CID {name!r} on this IPFS node: {exc.kubo_message}"
            )
        if exc.status >= 500:
            return StorageUnavailable(STORE, str(exc))
        # A 4xx means this code sent something Kubo does not accept: a bug, not an outage.
        return RuntimeError(f"Kubo refused {exc} (HTTP {exc.status})")


def _kubo_error_message(response: httpx.Response) -> str | None:
    """The ``Message`` of Kubo's JSON error body, or None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("Type") == "error" and "Message" in body:
        return str(body["Message"])
    return None
