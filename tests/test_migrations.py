"""Migrations match the models and can be reversed."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_every_app_migrates_back_to_zero_and_forward_again():
    for app in ("notifications", "clearance", "registry", "ledger"):
        call_command("migrate", app, "zero", verbosity=0)
    call_command("migrate", verbosity=0)
