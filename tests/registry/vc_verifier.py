"""Runs tests/registry/vc/verify.mjs (npm's `jose`, code we did not write) on a credential.

Not a test module: the live credential tests and the browser transfer test import it.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

VERIFIER_DIR = Path(__file__).resolve().parent / "vc"
NPM_TIMEOUT = 300
NODE_TIMEOUT = 60


class VerifierMissing(RuntimeError):
    pass


def installed() -> Path:
    """verify.mjs with its locked `jose` installed (`npm ci`, once, when it is missing)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise VerifierMissing(
                f"{tool} is needed to verify credentials with npm's jose (Node 20+)."
            )
    jose = VERIFIER_DIR / "node_modules" / "jose" / "package.json"
    if not jose.exists():
        # pytest-xdist's workers may both get here on a fresh clone: one runs `npm ci` (which
        # empties node_modules first), the other waits for it, then finds jose installed.
        with (VERIFIER_DIR / "package-lock.json").open() as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not jose.exists():
                subprocess.run(
                    ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(VERIFIER_DIR)],
                    check=True,
                    timeout=NPM_TIMEOUT,
                )
    return VERIFIER_DIR / "verify.mjs"


def verify(issuer: str, credential: Path) -> dict:
    """The verifier's verdict on the vc+jwt in ``credential``: ``ok`` only for a valid CR."""
    run = subprocess.run(
        ["node", str(installed()), issuer, str(credential)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )
    assert run.returncode in (0, 1), run.stderr
    result = json.loads(run.stdout)
    assert result["ok"] == (run.returncode == 0)
    return result
