"""The CR as a verifiable credential (vc+jwt), its revocation status list and the issuer's keys,
in process. tests/registry/test_credential_verify_live.py verifies them with npm's `jose`."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, transaction
from django.urls import reverse

from registry import sales, status_list
from registry import services as registry_services
from registry.credential_keys import thumbprint_uri
from registry.models import Certificate
from registry.records import certificate_revoke
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance
from tests.locking import waits_on_a_lock
from tests.paying import pay_in_full
from tests.registry.test_sales import offered, upload

ISSUER = "https://talaan.example"


@pytest.fixture(autouse=True)
def issuer_url(settings):
    settings.CREDENTIAL_ISSUER_URL = ISSUER


def approved(world, application=None):
    application, requests = sent_for_clearance(world, application)
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    application.refresh_from_db()
    return application


def transferred(world, certificate):
    """The vehicle sold to world.other_owner through the whole transfer (sale, papers,
    clearances, the LTO's approval): ``certificate`` is superseded; the buyer's CR returned."""
    sale = offered(world, certificate.vehicle)
    sale = sales.sale_accept(buyer=world.other_owner, token=sales.sale_token(sale))
    application = sale.application
    upload(application, world.owner, "deed_of_sale")
    upload(application, world.other_owner, "government_id")
    upload(application, world.other_owner, "insurance_coc")
    registry_services.application_submit(application_id=application.pk, actor=world.other_owner)
    approved(world, application)
    return Certificate.objects.get(vehicle=certificate.vehicle, status=Certificate.Status.VALID)


def download(client, user, application):
    client.force_login(user)
    return client.get(reverse("certificate-credential", args=[application.pk]))


def verified(client, token):
    """Decode a vc+jwt with the key the public JWK set names by its kid."""
    header = jwt.get_unverified_header(token)
    keys = client.get(reverse("credential-jwks")).json()["keys"]
    [jwk] = [key for key in keys if key["kid"] == header["kid"]]
    key = jwt.PyJWK.from_dict(jwk)
    return header, jwt.decode(token, key, algorithms=["ES256", "EdDSA"], issuer=ISSUER)


def bit(token_payload, index):
    encoded = token_payload["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131_072
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_the_owner_downloads_the_cr_as_a_vc_jwt_that_says_what_a_cr_says(client, world):
    application = approved(world, filed_application(world))
    certificate = Certificate.objects.get(application=application)
    world.owner.first_name, world.owner.last_name = "Maria", "Santos"
    world.owner.save()

    response = download(client, world.owner, application)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert f'filename="{certificate.number}.jwt"' in response["Content-Disposition"]
    header, claims = verified(client, response.content.decode())
    assert header["typ"] == "vc+jwt" and header["cty"] == "vc" and header["alg"] == "ES256"
    assert claims["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert claims["type"] == ["VerifiableCredential", "CertificateOfRegistration"]
    assert claims["id"] == f"{ISSUER}/verify/{certificate.number}"
    assert claims["issuer"]["id"] == claims["iss"] == ISSUER
    assert claims["validFrom"] == certificate.issued_at.astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert "vc" not in claims
    vehicle = application.vehicle
    assert claims["credentialSubject"] == {
        "type": "Vehicle",
        "certificateNumber": certificate.number,
        "vin": vehicle.vin,
        "make": vehicle.make,
        "model": vehicle.model,
        "modelYear": vehicle.year,
        "registeredOwner": {"name": "Maria Santos"},
        **({"plateNumber": vehicle.plate_number} if vehicle.plate_number else {}),
        **({"mvFileNumber": vehicle.mv_file_number} if vehicle.mv_file_number else {}),
    }
    # Nothing else about the owner: no e-mail, no account.
    assert world.owner.email not in response.content.decode() + json.dumps(claims)
    certificate.refresh_from_db()
    status = claims["credentialStatus"]
    assert status == {
        "id": f"{ISSUER}/credentials/status/0#{certificate.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certificate.status_index),
        "statusListCredential": f"{ISSUER}/credentials/status/0",
    }


def test_the_application_page_offers_the_credential_next_to_the_pdf(client, world):
    application = approved(world, filed_application(world))
    client.force_login(world.owner)

    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert reverse("certificate", args=[application.pk]) in page
    assert reverse("certificate-credential", args=[application.pk]) in page
    assert "Download credential (VC)" in page


def test_a_second_download_keeps_the_cr_s_status_index(client, world):
    application = approved(world, filed_application(world))

    first = verified(client, download(client, world.owner, application).content.decode())[1]
    second = verified(client, download(client, world.lto_admin, application).content.decode())[1]

    assert first["credentialStatus"] == second["credentialStatus"]


@pytest.mark.parametrize("who", ["other_owner", "hpg_officer"])
def test_nobody_but_the_owner_and_the_lto_gets_the_credential(client, world, who):
    application = approved(world, filed_application(world))

    response = download(client, getattr(world, who), application)

    assert response.status_code == 404
    assert Certificate.objects.get(application=application).status_index is None


def test_the_status_list_sets_the_bits_of_superseded_and_revoked_crs_only(client, world):
    sold = Certificate.objects.get(application=approved(world, filed_application(world)))
    kept = Certificate.objects.get(application=approved(world, filed_application(world)))
    for certificate in (sold, kept):
        status_list.index_of(certificate)
    url = reverse("credential-status-list", args=[0])

    before = verified(client, client.get(url).content.decode())[1]
    buyer_cr = transferred(world, sold)
    status_list.index_of(buyer_cr)
    after_sale = verified(client, client.get(url).content.decode())[1]
    certificate_revoke(certificate=kept, reason="Issued on a forged deed of sale.")
    response = client.get(url)
    after_revocation = verified(client, response.content.decode())[1]

    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    assert response["Cache-Control"] == "no-cache"
    assert after_revocation["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert after_revocation["id"] == f"{ISSUER}/credentials/status/0"
    subject = after_revocation["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    indexes = (sold.status_index, kept.status_index, buyer_cr.status_index)
    assert [bit(before, i) for i in indexes] == [0, 0, 0]
    assert [bit(after_sale, i) for i in indexes] == [1, 0, 0]
    assert [bit(after_revocation, i) for i in indexes] == [1, 1, 0]


def test_a_status_list_no_certificate_is_on_is_not_found(client, world):
    assert client.get(reverse("credential-status-list", args=[7])).status_code == 404


def test_a_drawn_index_someone_already_holds_is_drawn_again(world):
    first = Certificate.objects.get(application=approved(world, filed_application(world)))
    second = Certificate.objects.get(application=approved(world, filed_application(world)))
    draws = iter([41, 41, 99])
    status_list.index_of(first, draw=lambda _: next(draws))

    # The second draw finds 41 taken: the third, 99, is its index.
    assert status_list.index_of(second, draw=lambda _: next(draws)) == 99
    second.refresh_from_db()
    assert (first.status_index, second.status_index) == (41, 99)


def test_the_jwks_publishes_the_current_key_and_the_retired_ones_by_kid(client, world, settings):
    retired_private = ed25519.Ed25519PrivateKey.generate()
    retired_public = jwt.algorithms.OKPAlgorithm.to_jwk(retired_private.public_key(), as_dict=True)
    settings.CREDENTIAL_RETIRED_JWKS = json.dumps({"keys": [{**retired_public, "d": "secret"}]})

    response = client.get(reverse("credential-jwks"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    current, retired = response.json()["keys"]
    assert current["kid"] == thumbprint_uri(current) and current["alg"] == "ES256"
    assert retired["kid"] == thumbprint_uri(retired_public) and "d" not in retired


def test_an_ed25519_key_signs_eddsa(client, world, settings):
    settings.CREDENTIAL_SIGNING_KEY = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    application = approved(world, filed_application(world))

    header, claims = verified(client, download(client, world.owner, application).content.decode())

    assert header["alg"] == "EdDSA" and claims["type"][1] == "CertificateOfRegistration"


def test_without_a_signing_key_the_credential_pages_say_so_with_503(client, world, settings):
    settings.CREDENTIAL_SIGNING_KEY = ""
    application = approved(world, filed_application(world))

    page = download(client, world.owner, application)
    keys = client.get(reverse("credential-jwks"))

    assert page.status_code == 503 and b"CREDENTIAL_SIGNING_KEY" in page.content
    assert keys.status_code == 503
    with pytest.raises(SystemCheckError, match=r"registry\.E001"):
        call_command("check", "--deploy", "--fail-level", "ERROR")


def test_a_p384_key_is_refused_clearly(client, world, settings):
    settings.CREDENTIAL_SIGNING_KEY = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    response = client.get(reverse("credential-jwks"))

    assert response.status_code == 503 and b"P-256 or an Ed25519" in response.content


def test_in_debug_a_development_key_is_generated_once_under_var(settings, tmp_path):
    from registry.credential_keys import signing_key

    settings.CREDENTIAL_SIGNING_KEY = ""
    settings.CREDENTIAL_DEV_KEY_FILE = tmp_path / "var" / "credential-signing-key.pem"

    first = signing_key().kid
    assert settings.CREDENTIAL_DEV_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert signing_key().kid == first


def test_the_api_gives_the_owner_the_credential_and_others_a_problem(client, world):
    application = approved(world, filed_application(world))
    certificate = Certificate.objects.get(application=application)
    url = reverse("api:certificate-credential", args=[certificate.number])

    client.force_login(world.owner)
    mine = client.get(url, HTTP_ACCEPT="application/vc+jwt")
    client.force_login(world.other_owner)
    theirs = client.get(url)
    client.force_login(world.lto_admin)
    lto = client.get(url)

    assert mine.status_code == 200 and mine["Content-Type"] == "application/vc+jwt"
    assert verified(client, mine.content.decode())[1]["id"].endswith(certificate.number)
    assert lto.status_code == 200
    assert theirs.status_code == 404
    assert theirs["Content-Type"] == "application/problem+json"
    assert theirs.json()["code"] == "not_found"


def test_the_issuer_metadata_points_at_the_jwks(client, db):
    metadata = client.get(reverse("jwt-vc-issuer")).json()

    assert metadata == {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/.well-known/jwks.json"}


@pytest.mark.slow
def test_two_issuers_drawing_the_same_index_at_once_get_different_ones(transactional_db, world):
    """PostgreSQL: the second writer waits on the unique index for the first to commit, then
    loses and draws again; no index is ever shared."""
    first = Certificate.objects.get(application=approved(world, filed_application(world)))
    second = Certificate.objects.get(application=approved(world, filed_application(world)))
    rival: dict = {}
    draws = iter([41, 99])

    def draw_in_another_session() -> None:
        try:
            connection.ensure_connection()
            rival["pid"] = connection.connection.info.backend_pid
            rival["index"] = status_list.index_of(second, draw=lambda _: next(draws))
        except Exception as exc:  # shown by the assertion below, not lost in the thread
            rival["error"] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=draw_in_another_session)
    with transaction.atomic():
        assert status_list.index_of(first, draw=lambda _: 41) == 41
        thread.start()
        deadline = time.monotonic() + 30
        while not waits_on_a_lock(rival.get("pid")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waits_on_a_lock(rival.get("pid")), rival
    thread.join(timeout=30)

    assert rival == {"pid": rival["pid"], "index": 99}
    assert list(
        Certificate.objects.filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
        .values_list("status_index", flat=True)
    ) == [41, 99]


def test_the_api_says_503_problem_without_a_signing_key(client, world, settings):
    settings.CREDENTIAL_SIGNING_KEY = ""
    certificate = Certificate.objects.get(application=approved(world, filed_application(world)))
    client.force_login(world.owner)

    response = client.get(reverse("api:certificate-credential", args=[certificate.number]))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "credential_signing_unavailable"
    assert "CREDENTIAL_SIGNING_KEY" in response.json()["detail"]


def test_revoking_needs_a_reason_and_a_valid_cr(world):
    certificate = Certificate.objects.get(application=approved(world, filed_application(world)))

    with pytest.raises(ValidationError, match="Say why"):
        certificate_revoke(certificate=certificate, reason="  ")
    certificate_revoke(certificate=certificate, reason="Issued in error.")
    with pytest.raises(ValidationError, match="Only a valid certificate"):
        certificate_revoke(certificate=certificate, reason="Again.")

    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoked_reason) == ("revoked", "Issued in error.")
