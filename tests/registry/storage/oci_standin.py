"""Test code: a loopback STAND-IN for OCI Object Storage, not OCI and not an emulator of it.

No emulator of OCI's native Object Storage API exists here, so the tests point the ``oci``
SDK (through ``OciStorage``'s ``endpoint`` option) at this small HTTP server. It serves only
what ``registry.storage.oci.OciStorage`` calls — GetNamespace (``GET /n/``), and PutObject,
GetObject, HeadObject and DeleteObject on ``/n/{namespace}/b/{bucket}/o/{object}`` — keeps the
objects in memory, and answers in OCI's shapes (JSON errors ``{"code", "message"}``,
``opc-request-id``, ``etag``, ``opc-content-md5``, ``if-none-match: *`` → 409
``IfNoneMatchFailed``, bad ``Content-MD5`` → 400).

What makes it worth testing against: it VERIFIES each request's OCI HTTP signature (the
draft-cavage ``Authorization: Signature ...`` scheme, rsa-sha256, ``keyId`` =
``tenancy/user/fingerprint``) against the public key of the test user it was started for, and
refuses a missing, malformed, stale (``date`` more than 5 minutes off) or wrong signature with
401 ``NotAuthenticated``, as OCI does. ``date``, ``(request-target)`` and ``host`` must be
signed. OCI exempts PutObject's body from signing (the SDK signs it without the content
headers), so a PUT need not sign ``x-content-sha256``/``content-length``/``content-type``; when
it does, the body's SHA-256 and length are checked against them.

    with running_oci_standin(tmp_path) as oci_standin:
        storage = OciStorage(**oci_standin.storage_options())
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TENANCY = "ocid1.tenancy.oc1..aaaaaaaatalaantesttenancy"
USER = "ocid1.user.oc1..aaaaaaaatalaantestuser"
REGION = "ap-singapore-1"
NAMESPACE = "talaantest"
BUCKET = "talaan-documents"
MAX_CLOCK_SKEW = timedelta(minutes=5)

_OBJECT_PATH = re.compile(r"^/n/(?P<namespace>[^/]+)/b/(?P<bucket>[^/]+)/o/(?P<name>.+)$")
_SIGNATURE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class OciUser:
    """An API signing key of a (fake) OCI user and the config file the SDK reads it from."""

    config_file: Path
    profile: str
    key_id: str
    public_key: rsa.RSAPublicKey


def write_oci_config(
    directory: Path, *, profile: str = "DEFAULT", impersonate: OciUser | None = None
) -> OciUser:
    """Generate a throwaway RSA key and an OCI config file for the test user in ``directory``.

    With ``impersonate``, the config claims that user's key (its fingerprint, so the same
    ``keyId``) but holds a new private key: what a forger would send.
    """
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = directory / "oci_api_key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.md5(public_der).hexdigest()  # OCI's key fingerprint is MD5
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    if impersonate is not None:
        fingerprint = impersonate.key_id.rsplit("/", 1)[1]
    config_file = directory / "config"
    config_file.write_text(
        f"[{profile}]\nuser={USER}\nfingerprint={fingerprint}\ntenancy={TENANCY}\n"
        f"region={REGION}\nkey_file={key_file}\n"
    )
    return OciUser(config_file, profile, f"{TENANCY}/{USER}/{fingerprint}", key.public_key())


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    etag: str
    md5: str
    kms_key_id: str | None
    last_modified: datetime


@dataclass
class OciStandIn:
    """A running stand-in: where it listens, who may call it, and what it holds."""

    endpoint: str
    user: OciUser
    namespace: str = NAMESPACE
    bucket: str = BUCKET
    objects: dict[str, StoredObject] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # why each 401 was given
    # Set to a status (e.g. 503) to have every authenticated request fail with it.
    failing_with: int | None = None

    def storage_options(self, **overrides: str) -> dict[str, str]:
        """Keyword options for OciStorage, as settings.STORAGES would give them."""
        options = {
            "auth": "config_file",
            "config_file": str(self.user.config_file),
            "profile": self.user.profile,
            "region": REGION,
            "namespace": self.namespace,
            "bucket": self.bucket,
            "kms_key_id": "",
            "endpoint": self.endpoint,
        }
        return options | overrides


class NotAuthenticated(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    server: _StandInServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        self.request_id = uuid.uuid4().hex.upper()
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            self._authenticate(body)
        except NotAuthenticated as exc:
            self.server.state.refused.append(str(exc))
            self._error(
                401,
                "NotAuthenticated",
                "The required information to complete authentication was not provided or was "
                "incorrect.",
            )
            return
        if self.server.state.failing_with is not None:
            self._error(self.server.state.failing_with, "ServiceUnavailable", "Try again later.")
            return
        path = urlsplit(self.path).path
        if self.command == "GET" and path.rstrip("/") == "/n":
            self._send(200, json.dumps(self.server.state.namespace).encode(), "application/json")
            return
        match = _OBJECT_PATH.match(path)
        state = self.server.state
        if not match or (match["namespace"], match["bucket"]) != (state.namespace, state.bucket):
            self._error(
                404, "BucketNotFound", "Either the bucket does not exist or you are not authorized."
            )
            return
        name = unquote(match["name"])
        operations = {"PUT": self._put, "GET": self._get, "HEAD": self._get, "DELETE": self._delete}
        operations[self.command](name, body)

    do_PUT = do_GET = do_HEAD = do_DELETE = _handle

    # -- the signature -----------------------------------------------------------------

    def _authenticate(self, body: bytes) -> None:
        authorization = self.headers.get("authorization", "")
        if not authorization.startswith("Signature "):
            raise NotAuthenticated("no Signature authorization header")
        params = dict(_SIGNATURE_PARAM.findall(authorization))
        if params.get("algorithm") != "rsa-sha256" or params.get("version", "1") != "1":
            raise NotAuthenticated(f"unsupported algorithm {params.get('algorithm')!r}")
        if params.get("keyId") != self.server.state.user.key_id:
            raise NotAuthenticated(f"unknown keyId {params.get('keyId')!r}")
        signed = params.get("headers", "").split()
        missing = {"date", "(request-target)", "host"} - set(signed)
        if missing:
            raise NotAuthenticated(f"headers not signed: {sorted(missing)}")
        lines = []
        for header in signed:
            if header == "(request-target)":
                lines.append(f"(request-target): {self.command.lower()} {self.path}")
            elif header in self.headers:
                lines.append(f"{header}: {self.headers[header]}")
            else:
                raise NotAuthenticated(f"signed header {header!r} is absent")
        try:
            self.server.state.user.public_key.verify(
                base64.b64decode(params.get("signature", "")),
                "\n".join(lines).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError) as exc:
            raise NotAuthenticated("signature does not verify") from exc
        sent = email.utils.parsedate_to_datetime(self.headers["date"])
        if abs(datetime.now(UTC) - sent) > MAX_CLOCK_SKEW:
            raise NotAuthenticated("date is more than 5 minutes off")
        if "x-content-sha256" in signed:
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if self.headers["x-content-sha256"] != digest:
                raise NotAuthenticated("x-content-sha256 does not match the body")
        if "content-length" in signed and int(self.headers["content-length"]) != len(body):
            raise NotAuthenticated("content-length does not match the body")

    # -- the operations ----------------------------------------------------------------

    def _put(self, name: str, body: bytes) -> None:
        state = self.server.state
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # as OCI computes it
        if self.headers.get("content-md5") not in (None, md5):
            self._error(
                400,
                "UnmatchedContentMD5",
                "The computed MD5 of the request body does not match the Content-MD5 header.",
            )
            return
        with self.server.lock:
            if self.headers.get("if-none-match") == "*" and name in state.objects:
                self._error(409, "IfNoneMatchFailed", f"The object '{name}' already exists.")
                return
            stored = StoredObject(
                data=body,
                content_type=self.headers.get("content-type", "application/octet-stream"),
                etag=str(uuid.uuid4()),
                md5=md5,
                kms_key_id=self.headers.get("opc-sse-kms-key-id"),
                last_modified=datetime.now(UTC),
            )
            state.objects[name] = stored
        self._send(200, b"", None, self._object_headers(stored))

    def _get(self, name: str, body: bytes) -> None:
        stored = self.server.state.objects.get(name)
        if stored is None:
            self._error(
                404,
                "ObjectNotFound",
                f"The object '{name}' was not found in the bucket '{self.server.state.bucket}'",
            )
            return
        headers = self._object_headers(stored) | {"accept-ranges": "bytes"}
        self._send(200, stored.data, stored.content_type, headers)

    def _delete(self, name: str, body: bytes) -> None:
        with self.server.lock:
            stored = self.server.state.objects.pop(name, None)
        if stored is None:
            self._error(
                404,
                "ObjectNotFound",
                f"The object '{name}' was not found in the bucket '{self.server.state.bucket}'",
            )
            return
        self._send(
            204,
            b"",
            None,
            {"last-modified": email.utils.format_datetime(datetime.now(UTC), usegmt=True)},
        )

    # -- answering ---------------------------------------------------------------------

    @staticmethod
    def _object_headers(stored: StoredObject) -> dict[str, str]:
        return {
            "etag": stored.etag,
            "opc-content-md5": stored.md5,
            "last-modified": email.utils.format_datetime(stored.last_modified, usegmt=True),
        }

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"code": code, "message": message}).encode()
        self._send(status, body, "application/json")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("opc-request-id", self.request_id)
        if content_type:
            self.send_header("content-type", content_type)
        if status != 204:
            self.send_header("content-length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, user: OciUser) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.state = OciStandIn(endpoint=f"http://127.0.0.1:{self.server_address[1]}", user=user)


_instances = itertools.count()


@contextmanager
def running_oci_standin(base_dir: Path) -> Iterator[OciStandIn]:
    """Start the stand-in for a freshly generated test user under ``base_dir``; yield it.

    ``base_dir`` must be a directory of the caller's (pytest's ``tmp_path``).
    """
    user = write_oci_config(Path(base_dir) / f"oci-{next(_instances)}")
    server = _StandInServer(user)
    thread = threading.Thread(target=server.serve_forever, name="oci-standin", daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
