"""IpfsStorage against real Kubo (embedded, behind the loopback test façade in kubo.py)."""

from __future__ import annotations

import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from django.core.files.base import ContentFile

from registry.storage.errors import StorageUnavailable
from registry.storage.ipfs import IpfsStorage
from tests.registry.storage.kubo import running_kubo

# What `ipfs add` (Kubo's defaults) answers for "hello\n": a well-known CID.
HELLO_CID = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"


def _rpc(api_url: str, command: str, **params: str) -> httpx.Response:
    return httpx.post(f"{api_url}/api/v0/{command}", params=params, timeout=10)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_saved_document_reads_back_the_same_bytes(kubo_api_url):
    storage = IpfsStorage(api_url=kubo_api_url)
    data = os.urandom(700_000)  # several chunks, so Kubo builds a DAG, not a single block

    location = storage.save("documents/5b0c6a2e", ContentFile(data))

    with storage.open(location) as handle:
        assert handle.read() == data
    assert storage.size(location) == len(data)
    assert storage.exists(location)


def test_location_is_the_cid_kubo_computes(kubo_api_url):
    storage = IpfsStorage(api_url=kubo_api_url)

    first = storage.save("documents/a", ContentFile(b"hello\n"))
    second = storage.save("documents/b", ContentFile(b"hello\n"))
    other = storage.save("documents/c", ContentFile(b"hello!\n"))

    assert first == second == HELLO_CID
    assert other != first


def test_saved_document_is_pinned_and_delete_unpins_it(kubo_api_url):
    storage = IpfsStorage(api_url=kubo_api_url)
    location = storage.save("documents/pinned", ContentFile(os.urandom(1000)))
    pins = _rpc(kubo_api_url, "pin/ls", arg=location).json()["Keys"]
    assert pins == {location: {"Type": "recursive"}}

    storage.delete(location)

    listing = _rpc(kubo_api_url, "pin/ls", arg=location)
    assert listing.status_code == 500
    assert "is not pinned" in listing.json()["Message"]
    assert not storage.exists(location)
    storage.delete(location)  # already unpinned: nothing to do, no error


def test_unknown_cid_is_file_not_found(kubo_api_url):
    storage = IpfsStorage(api_url=kubo_api_url)
    # A valid CID of content this node never saw: the node answers offline instead of waiting.
    missing = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

    with pytest.raises(FileNotFoundError, match=missing):
        storage.open(missing)
    with pytest.raises(FileNotFoundError):
        storage.size(missing)
    assert not storage.exists(missing)
    with pytest.raises(FileNotFoundError):
        storage.open("not-a-cid")


def test_store_not_answering_is_storage_unavailable():
    storage = IpfsStorage(api_url=_closed_port_url(), timeout=2)

    with pytest.raises(StorageUnavailable) as caught:
        storage.save("documents/x", ContentFile(b"data"))

    assert caught.value.message == "The document store (IPFS) is not answering; try again."
    assert caught.value.http_status == 503
    assert caught.value.retryable
    with pytest.raises(StorageUnavailable):
        storage.open(HELLO_CID)


def test_store_stopped_after_saving_is_storage_unavailable(tmp_path: Path):
    with running_kubo(tmp_path) as api_url:
        storage = IpfsStorage(api_url=api_url, timeout=2)
        location = storage.save("documents/x", ContentFile(b"soon unreachable"))

    with pytest.raises(StorageUnavailable, match=r"\(IPFS\) is not answering"):
        storage.open(location)


class _BadGateway(BaseHTTPRequestHandler):
    """A reverse proxy in front of a Kubo that is down."""

    def do_POST(self) -> None:
        body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_proxy_answering_5xx_is_storage_unavailable():
    server = HTTPServer(("127.0.0.1", 0), _BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        storage = IpfsStorage(api_url=f"http://127.0.0.1:{server.server_address[1]}")

        with pytest.raises(StorageUnavailable, match="HTTP 502"):
            storage.open(HELLO_CID)
        with pytest.raises(StorageUnavailable, match="HTTP 502"):
            storage.delete(HELLO_CID)
    finally:
        server.shutdown()
        server.server_close()


def test_url_is_refused_documents_are_served_by_the_app(kubo_api_url):
    with pytest.raises(NotImplementedError):
        IpfsStorage(api_url=kubo_api_url).url(HELLO_CID)


def test_storage_deconstructs_with_its_options():
    storage = IpfsStorage(api_url="http://kubo:5001", timeout=7)

    assert storage.deconstruct() == (
        "registry.storage.ipfs.IpfsStorage",
        (),
        {"api_url": "http://kubo:5001", "timeout": 7},
    )
    assert IpfsStorage.content_is_public is True


def test_facade_answers_like_kubo_rpc(kubo_api_url):
    assert httpx.get(f"{kubo_api_url}/api/v0/cat", params={"arg": HELLO_CID}).status_code == 405
    missing_arg = _rpc(kubo_api_url, "cat")
    assert missing_arg.status_code == 400
    assert missing_arg.json() == {
        "Message": 'argument "ipfs-path" is required',
        "Code": 1,
        "Type": "error",
    }
    refused = httpx.post(
        f"{kubo_api_url}/api/v0/add", params={"cid-version": "1"}, files={"file": ("x", b"x")}
    )
    assert refused.status_code == 500
    assert refused.json()["Type"] == "error"
