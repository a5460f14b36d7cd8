"""A real uvicorn server on loopback over the test database, for tests that need HTTP.

Not a conftest: import what you need. The server is a subprocess with this process's
environment, pointed at the test database, so it sees only what a test commits; use it from
tests with a transactional database. It keeps nothing between requests but the throttle
counts in the cache (``DATABASE_CONN_MAX_AGE=0`` closes connections).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.live import answers_ok, free_port, log_tail

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def server_environment(database_name: str, **overrides: str) -> dict[str, str]:
    """This process's environment for a server on ``database_name``, DEBUG off, loopback."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise RuntimeError(
            "A live server needs the PostgreSQL test database (DATABASE_URL is not set): run "
            "the tests through `make test` or scripts/with-services."
        )
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        DATABASE_URL=urlsplit(database_url)._replace(path=f"/{database_name}").geturl(),
        DATABASE_CONN_MAX_AGE="0",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class ServerFailed(RuntimeError):
    pass


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen


@contextmanager
def live_uvicorn(
    env: dict[str, str],
    log_path: Path,
    *,
    app: str = "talaan.asgi:application",
    port: int | None = None,
) -> Iterator[str]:
    """Run ``uvicorn app`` on a loopback port (free, or ``port`` for a server that must know
    its own URL beforehand) until the block ends; yields its base URL.

    Ready when ``/healthz`` answers 200; stopped with SIGTERM (then SIGKILL) afterwards.
    """
    with uvicorn_server(env, log_path, app=app, port=port) as server:
        yield server.url


@contextmanager
def uvicorn_server(
    env: dict[str, str],
    log_path: Path,
    *,
    app: str = "talaan.asgi:application",
    port: int | None = None,
) -> Iterator[LiveServer]:
    """``live_uvicorn``, yielding the process too, for tests that kill it themselves."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not answers_ok(f"{url}/healthz"):
            if process.poll() is not None:
                raise ServerFailed(
                    f"uvicorn exited with status {process.returncode} before it was ready:\n"
                    f"{log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise ServerFailed(f"uvicorn was not ready after {STARTUP_TIMEOUT:g} s")
            time.sleep(0.1)
        yield LiveServer(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
