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
