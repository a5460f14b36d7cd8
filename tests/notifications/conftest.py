"""Fixtures for the notifications tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def sms_outbox(settings, tmp_path):
    """Text messages go through the file backend into a folder the test can read."""
    settings.SMS_BACKEND = "notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def sent_sms(outbox) -> list[dict]:
    import json

    return [
        json.loads(line)
        for path in sorted(outbox.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
