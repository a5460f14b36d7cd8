"""`make run` as a person first meets it (issue 19, item 11): it takes PORT and fails at once,
before migrating, when the port is taken; what it prints before the app starts is the login
table with where each role starts, and where the e-mail goes, not pages of task logs.

`make -o install` runs the recipe without reinstalling the (shared) virtualenv.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from demo.management.commands.load_demo import PEOPLE

ROOT = Path(__file__).resolve().parent.parent


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CELERY_BROKER_URL", "LOG_LEVEL"}
        and not key.startswith("MAKE")
    }
    env["TALAAN_VAR_DIR"] = str(var_dir)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def make() -> str:
    found = shutil.which("make")
    if found is None:
        pytest.fail("make is not installed (scripts/system-deps installs it).", pytrace=False)
    return found


def test_a_taken_port_fails_before_migrating_and_says_what_to_do(make, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        run = subprocess.Popen(
            [make, "-s", "-o", "install", "run", f"PORT={port}"],
            cwd=ROOT,
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _, stderr = run.communicate(timeout=60)
        finally:
            # A make run that did not stop at the port would go on to build and serve.
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGTERM)
                run.wait(timeout=30)

    assert run.returncode != 0
    assert f"Port {port} on 127.0.0.1 is in use" in stderr
    assert f"make run PORT={port + 1}" in stderr
    assert not (tmp_path / "talaan.sqlite3").exists(), "it migrated before checking the port"


@pytest.mark.slow
def test_make_run_serves_on_port_and_prints_logins_start_points_and_the_mail_folder(make, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [make, "-s", "-o", "install", "run", f"PORT={port}"],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 300
        for line in server.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("Talaan is at") or time.monotonic() > deadline:
                break
        assert printed and printed[-1] == f"Talaan is at http://127.0.0.1:{port}  (Ctrl-C to stop)"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as ok:
                    assert ok.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("make run did not answer on its PORT:\n" + "\n".join(printed))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    text = "\n".join(printed)
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "make-run-output.txt").write_text(text + "\n")  # to read, git-ignored
    table = next(i for i, line in enumerate(printed) if line.startswith("Demo logins"))
    assert "celery" not in text.lower(), "task logs before the login table"
    assert table < 8, "\n".join(printed[:table])
    for username, *_ in PEOPLE:
        row = next(line for line in printed if f" {username} " in line)
        assert len(row.split(username, 1)[1].strip()) > 20, f"no start point: {row!r}"
    assert f"a file in {tmp_path / 'mail'}/" in text
