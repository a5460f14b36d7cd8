"""Settings come from the environment; production refuses to start without a real secret."""

from __future__ import annotations

import os
import subprocess
import sys


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "talaan.settings", **env},
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_production_refuses_the_development_key():
    result = load_settings(DEBUG="0", SECRET_KEY="django-insecure-talaan-development-only-key")
    assert result.returncode != 0


def test_the_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("a-long-random-production-secret-read-from-a-mounted-file\n")
    result = load_settings(DEBUG="0", SECRET_KEY_FILE=str(secret))
    assert result.returncode == 0 and "started" in result.stdout


def test_development_starts_with_its_default_key():
    assert load_settings(DEBUG="1").returncode == 0


def test_a_malformed_boolean_is_refused():
    result = load_settings(DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


PRODUCTION_SECRET = "a-long-random-production-secret-for-the-settings-tests-1234"


def test_documents_on_ipfs_need_a_master_key_in_production():
    result = load_settings(
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET,
        DOCUMENT_STORAGE="ipfs",
        IPFS_API_URL="http://kubo:5001",
    )
    assert result.returncode != 0
    assert "DOCUMENT_STORAGE=ipfs needs DOCUMENT_MASTER_KEY" in result.stderr


def test_a_storage_without_its_settings_is_refused():
    result = load_settings(DEBUG="1", DOCUMENT_STORAGE="oci")
    assert result.returncode != 0
    assert "oci needs OCI_BUCKET" in result.stderr


def test_the_compose_files_document_settings_start_the_app(tmp_path):
    """docker-compose.yml's environment for the app, with its defaults, is accepted."""
    import re
    from pathlib import Path

    import yaml

    compose = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    )
    env = {}
    for name, value in compose["services"]["web"]["environment"].items():
        # ${NAME:-default} -> default, as compose substitutes it when NAME is unset.
        env[name] = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
    for name in [n for n in env if n.endswith("_FILE") and env[n].startswith("/run/secrets/")]:
        secret = tmp_path / name
        secret.write_text(
            "ab" * 32 if "KEY" in name and "SECRET" not in name else PRODUCTION_SECRET
        )
        env[name] = str(secret)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DOCUMENT_STORAGE, settings.STORAGES['documents:ipfs']['OPTIONS'])",
        ],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "talaan.settings", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ipfs {'api_url': 'http://kubo:5001'")
