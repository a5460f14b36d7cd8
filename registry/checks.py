"""`manage.py check --deploy`: a server that issues credentials needs its signing key."""

from __future__ import annotations

from typing import Any

from django.core import checks

from registry.credential_keys import SigningKeyMissing, configured_pem, signing_key


@checks.register(checks.Tags.security, deploy=True)
def credential_signing_key_configured(**kwargs: Any) -> list[checks.CheckMessage]:
    if configured_pem() is None:
        return [
            checks.Error(
                "CREDENTIAL_SIGNING_KEY (or CREDENTIAL_SIGNING_KEY_FILE) is not set: owners "
                "cannot download their certificate as a verifiable credential, and the status "
                "lists and JWK set answer 503.",
                hint="Set it to a PEM private key, EC P-256 (ES256) or Ed25519 (EdDSA), e.g. "
                "`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.",
                id="registry.E001",
            )
        ]
    try:
        signing_key()
    except SigningKeyMissing as exc:
        return [checks.Error(exc.message, id="registry.E002")]
    return []
