"""Issue an organisation's API key from the command line and print it once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kernel.errors import PermissionDenied
from organisations.models import Organisation
from organisations.services import api_key_create


class Command(BaseCommand):
    help = (
        "Issue an API key for an organisation, acting as USERNAME (an admin of the "
        "organisation or LTO staff; decisions filed with the key are attributed to them). "
        "The key is printed once and stored only hashed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, help="The organisation's code.")
        parser.add_argument("--user", required=True, help="The username the key acts as.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument("--scopes", default="read", help="Comma-separated: read,decide.")
        parser.add_argument(
            "--expires", type=dt.datetime.fromisoformat, help="ISO 8601 with a UTC offset."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organisation = Organisation.objects.get(code=options["organisation"])
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation with code {options['organisation']!r}.") from None
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {options['user']!r}.") from None
        expires = options["expires"]
        if expires is not None and expires.tzinfo is None:
            raise CommandError("Give --expires with a UTC offset, e.g. 2027-01-01T00:00+08:00.")
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        try:
            key, plaintext = api_key_create(
                organisation_id=organisation.pk,
                admin=user,
                name=options["name"],
                scopes=scopes,
                expires_at=expires,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"Issued {key} for {organisation}. It will not be shown again:")
        self.stdout.write(plaintext)
