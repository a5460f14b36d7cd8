"""OciStorage through the real oci SDK, against the loopback stand-in in oci_standin.py.

The stand-in is not OCI: it checks the SDK's request signatures and keeps objects in memory.
"""

from __future__ import annotations

import os
import socket

import oci
import pytest
from django.core.files.base import ContentFile

from registry.storage.errors import StorageUnavailable
from registry.storage.oci import OciStorage
from tests.registry.storage.oci_standin import write_oci_config


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_saved_document_reads_back_the_same_bytes(oci_standin):
    storage = OciStorage(**oci_standin.storage_options())
    data = os.urandom(300_000)

    location = storage.save("documents/0b6f1c8e-4d7a-4c1e-9d8b-2f1f3c0a9e11", ContentFile(data))

    assert location == "documents/0b6f1c8e-4d7a-4c1e-9d8b-2f1f3c0a9e11"
    assert oci_standin.objects[location].data == data
    with storage.open(location) as handle:
        assert handle.read() == data
    assert storage.size(location) == len(data)
    assert storage.exists(location)
    assert oci_standin.refused == []


def test_overwrite_is_refused_and_the_first_object_kept(oci_standin):
    storage = OciStorage(**oci_standin.storage_options())
    storage.save("documents/taken", ContentFile(b"first"))

    with pytest.raises(FileExistsError, match="documents/taken"):
        storage.save("documents/taken", ContentFile(b"second"))

    assert oci_standin.objects["documents/taken"].data == b"first"
    assert list(oci_standin.objects) == ["documents/taken"]


def test_delete_removes_the_object(oci_standin):
    storage = OciStorage(**oci_standin.storage_options())
    location = storage.save("documents/gone", ContentFile(b"data"))

    storage.delete(location)

    assert location not in oci_standin.objects
    assert not storage.exists(location)
    with pytest.raises(FileNotFoundError, match="documents/gone"):
        storage.open(location)
    with pytest.raises(FileNotFoundError):
        storage.size(location)
    storage.delete(location)  # already gone: nothing to do, no error


def test_kms_key_is_asked_for_when_configured(oci_standin):
    kms_key = "ocid1.key.oc1.ap-singapore-1.aaaaaaaatalaantestkey"
    with_kms = OciStorage(**oci_standin.storage_options(kms_key_id=kms_key))
    without = OciStorage(**oci_standin.storage_options())

    with_kms.save("documents/vault", ContentFile(b"x"))
    without.save("documents/oracle-managed", ContentFile(b"y"))

    assert oci_standin.objects["documents/vault"].kms_key_id == kms_key
    assert oci_standin.objects["documents/oracle-managed"].kms_key_id is None


def test_namespace_is_looked_up_when_not_configured(oci_standin):
    storage = OciStorage(**oci_standin.storage_options(namespace=""))

    location = storage.save("documents/ns", ContentFile(b"data"))

    assert oci_standin.objects[location].data == b"data"


def test_standin_refuses_a_request_signed_with_another_key(oci_standin, tmp_path):
    # Claims the test user's keyId (tenancy/user/fingerprint) but signs with another key.
    impostor = write_oci_config(tmp_path / "impostor", impersonate=oci_standin.user)
    assert impostor.key_id == oci_standin.user.key_id
    storage = OciStorage(**oci_standin.storage_options(config_file=str(impostor.config_file)))

    with pytest.raises(StorageUnavailable) as caught:
        storage.save("documents/forged", ContentFile(b"data"))

    # The user is told the store is unavailable (503); the logs say why.
    assert caught.value.http_status == 503
    assert "401 NotAuthenticated" in caught.value.detail
    assert oci_standin.objects == {}
    assert oci_standin.refused == ["signature does not verify"]


def test_standin_refuses_a_body_that_does_not_match_its_signed_digest(oci_standin):
    config = oci.config.from_file(str(oci_standin.user.config_file))
    signer = oci.signer.Signer.from_config(config)
    request = oci._vendor.requests.Request(
        "PUT",
        f"{oci_standin.endpoint}/n/{oci_standin.namespace}/b/{oci_standin.bucket}/o/documents%2Fx",
        data=b"what was signed",
        headers={"content-type": "application/octet-stream"},
    ).prepare()
    signer(request)  # signs date, (request-target), host and the body headers
    request.body = b"what was sent!!"  # same length, other bytes

    response = oci._vendor.requests.Session().send(request)

    assert response.status_code == 401
    assert response.json()["code"] == "NotAuthenticated"
    assert oci_standin.refused == ["x-content-sha256 does not match the body"]


def test_standin_refuses_an_unsigned_request(oci_standin):
    url = f"{oci_standin.endpoint}/n/{oci_standin.namespace}/b/{oci_standin.bucket}/o/x"

    response = oci._vendor.requests.get(url, timeout=5)

    assert response.status_code == 401
    assert response.headers["opc-request-id"]


def test_store_not_answering_is_storage_unavailable(oci_standin):
    storage = OciStorage(**oci_standin.storage_options(endpoint=_closed_port_url()))

    with pytest.raises(StorageUnavailable) as caught:
        storage.save("documents/x", ContentFile(b"data"))

    assert (
        caught.value.message
        == "The document store (OCI Object Storage) is not answering; try again."
    )
    assert caught.value.http_status == 503
    assert caught.value.retryable
    with pytest.raises(StorageUnavailable):
        storage.open("documents/x")
    with pytest.raises(StorageUnavailable):
        storage.exists("documents/x")


def test_store_failing_on_its_side_is_storage_unavailable(oci_standin):
    storage = OciStorage(**oci_standin.storage_options())
    location = storage.save("documents/then-failing", ContentFile(b"data"))
    oci_standin.failing_with = 503

    with pytest.raises(StorageUnavailable, match=r"\(OCI Object Storage\) is not answering"):
        storage.open(location)
    with pytest.raises(StorageUnavailable, match="503 ServiceUnavailable"):
        storage.save("documents/another", ContentFile(b"data"))


def test_url_is_refused_documents_are_served_by_the_app(oci_standin):
    with pytest.raises(NotImplementedError):
        OciStorage(**oci_standin.storage_options()).url("documents/x")


def test_storage_deconstructs_with_its_options():
    storage = OciStorage(bucket="docs", namespace="ns", region="ap-singapore-1")

    path, args, kwargs = storage.deconstruct()

    assert (path, args) == ("registry.storage.oci.OciStorage", ())
    assert kwargs == {"bucket": "docs", "namespace": "ns", "region": "ap-singapore-1"}
    assert OciStorage.content_is_public is False
