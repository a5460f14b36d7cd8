"""The create_api_key command issues a working key and prints it once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from organisations.models import ApiKey


def _create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_the_command_prints_a_key_that_authenticates_with_its_scopes(world):
    plaintext = _create(
        *("--organisation", "hpg", "--user", "hpg.admin"),
        *("--name", "claims", "--scopes", "read,decide"),
    )

    key = ApiKey.objects.get()
    assert plaintext.startswith(f"tln_{key.prefix}_")
    assert (key.organisation, key.created_by, key.scopes) == (
        world.hpg,
        world.hpg_admin,
        ["decide", "read"],
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get("/api/v1/clearances/").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organisation", "nope", "--user", "hpg.admin"], "No organisation"),
        (["--organisation", "hpg", "--user", "nobody"], "No user"),
        (["--organisation", "hpg", "--user", "hpg.officer"], "admins"),
        (["--organisation", "hpg", "--user", "hpg.admin", "--scopes", "write"], "read, decide"),
    ],
)
def test_the_command_refuses_what_the_service_refuses(world, args, message):
    with pytest.raises(CommandError, match=message):
        _create(*args, "--name", "claims")

    assert not ApiKey.objects.exists()
