"""`make run`'s shape works: SQLite, embedded ledger, in-process tasks, demo data.

The rest of the suite runs on PostgreSQL; this guards what only SQLite would break.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_demo_loads_and_verifies_on_the_embedded_default(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CELERY_BROKER_URL"}
    }
    env.update({"DEBUG": "1", "TALAAN_VAR_DIR": str(tmp_path)})

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput", "-v0")
    assert "owner.juan" in manage("load_demo")
    # 80 clearance changes, 8 registrations, 1 transfer of ownership, 2 dealer's origin records
    # (RecordOrigin), 1 deregistration, 1 hold (PlaceHold, Maria's Ranger), 1 chattel mortgage
    # (AnnotateMortgage, Maria's mu-X) and 33 documents anchored by RecordDocument (each new
    # registration's sales invoice, CSR and certificate of cover, the dealer-sold vehicle's
    # invoice and CSR being on its origin record; the transfer's deed of sale, ID and cover;
    # the Corolla's certificate of scrapping; the stolen hold's evidence).
    # The LTO search runs on SQLite too (without pg_trgm, its substring matches scan).
    found = manage(
        "shell",
        "-c",
        "from registry.models import RegistrationApplication as A\n"
        "from registry.search import search_applications as s\n"
        "print([s(A.objects.all(), q).count() for q in ('juan', 'TOYOTA', 'nobody-at-all')])",
    )
    last_line = found.strip().splitlines()[-1]  # after the shell's own notices
    juan, toyota, nobody = (int(n) for n in last_line.strip("[]").split(","))
    assert juan > 0 and toyota > 0 and nobody == 0
    assert manage("verify_ledger").startswith("OK: 127 entries")
    assert (tmp_path / "talaan.sqlite3").exists()
    # Uploads are stored on disk (the filesystem store) and verify against the ledger.
    assert "33 documents checked, 0 failed." in manage("verify_documents")
    stored = list((tmp_path / "media" / "documents").iterdir())
    assert len(stored) == 33 and all(path.read_bytes().startswith(b"%PDF") for path in stored)
