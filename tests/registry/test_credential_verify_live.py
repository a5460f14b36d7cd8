"""The CR credential verified over loopback by code we did not write: npm's `jose` (6.x) in
tests/registry/vc/verify.mjs, against a real server (tests.api.live_server).

The verifier finds the issuer's keys at /.well-known/jwt-vc-issuer, verifies the vc+jwt
(typ, alg, a kid that is the key's thumbprint), fetches the status list credential named in
credentialStatus, verifies it too, and reads the CR's bit. The owner downloads the credential
from the REST API with a browser session, as a page would.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from registry.models import Certificate
from registry.records import certificate_revoke
from tests.api.live_server import live_uvicorn, server_environment
from tests.conftest import CREDENTIAL_SIGNING_KEY_PEM, filed_application
from tests.live import free_port
from tests.registry import vc_verifier
from tests.registry.test_credentials import approved, transferred

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def verifier() -> None:
    try:
        vc_verifier.installed()
    except vc_verifier.VerifierMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def issuer(django_db_setup, tmp_path_factory) -> Iterator[str]:
    """A server whose credentials name itself as the issuer, signing with the tests' key."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_environment(
        connection.settings_dict["NAME"],
        CREDENTIAL_SIGNING_KEY=CREDENTIAL_SIGNING_KEY_PEM,
        CREDENTIAL_ISSUER_URL=url,
    )
    log_path = tmp_path_factory.mktemp("credentials") / "uvicorn.log"
    with live_uvicorn(env, log_path, port=port) as base:
        yield base


@pytest.fixture
def office(transactional_db, world, settings, issuer):
    settings.CREDENTIAL_ISSUER_URL = issuer
    return world


def downloaded(issuer: str, certificate: Certificate, tmp_path: Path) -> Path:
    """The owner's download of the credential from the live API, saved to a file."""
    session = SessionStore()
    session["_auth_user_id"] = str(certificate.owner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = certificate.owner.get_session_auth_hash()
    session.create()
    request = urllib.request.Request(
        f"{issuer}/api/v1/certificates/{certificate.number}/credential/",
        headers={"Cookie": f"sessionid={session.session_key}", "Accept": "application/vc+jwt"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/vc+jwt"
        token = response.read().decode()
    path = tmp_path / f"{certificate.number}.jwt"
    path.write_text(token)
    return path


def verify(verifier: None, issuer: str, credential: Path) -> dict:
    return vc_verifier.verify(issuer, credential)


def test_a_valid_cr_verifies_and_fails_once_a_sale_supersedes_it(
    office, verifier, issuer, tmp_path
):
    certificate = Certificate.objects.get(application=approved(office, filed_application(office)))
    credential = downloaded(issuer, certificate, tmp_path)

    valid = verify(verifier, issuer, credential)
    buyer_certificate = transferred(office, certificate)
    superseded = verify(verifier, issuer, credential)
    buyers = verify(verifier, issuer, downloaded(issuer, buyer_certificate, tmp_path))

    assert valid["ok"], valid
    assert valid["header"]["typ"] == "vc+jwt" and valid["header"]["alg"] == "ES256"
    assert valid["subject"]["certificateNumber"] == certificate.number
    certificate.refresh_from_db()
    assert valid["status"] == {"index": certificate.status_index, "bit": 0, "purpose": "revocation"}
    assert not superseded["ok"] and superseded["step"] == "status", superseded
    assert superseded["status"]["bit"] == 1
    assert buyers["ok"], buyers


def test_a_revoked_cr_fails(office, verifier, issuer, tmp_path):
    certificate = Certificate.objects.get(application=approved(office, filed_application(office)))
    certificate_revoke(certificate=certificate, reason="Issued on a forged deed of sale.")

    result = verify(verifier, issuer, downloaded(issuer, certificate, tmp_path))

    assert not result["ok"] and result["step"] == "status", result
    assert result["error"].endswith("is set (revocation)")


def test_a_tampered_credential_fails_its_signature(office, verifier, issuer, tmp_path):
    certificate = Certificate.objects.get(application=approved(office, filed_application(office)))
    credential = downloaded(issuer, certificate, tmp_path)
    header, payload, signature = credential.read_text().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["registeredOwner"]["name"] = "Someone Else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    credential.write_text(f"{header}.{forged}.{signature}")

    result = verify(verifier, issuer, credential)

    assert not result["ok"] and result["step"] == "signature", result
