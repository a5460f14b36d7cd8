"""A Redis server and a var/ folder of its own for each pytest-xdist worker (`make test -n`).

Loaded with ``-p tests.worker_isolation`` (addopts in pyproject.toml), so that it runs before
pytest-django imports the settings, which read REDIS_URL and TALAAN_VAR_DIR once (a
TALAAN_VAR_DIR set by the caller is replaced too). Outside a worker (a serial run, or xdist's
controller) it does nothing.

PostgreSQL needs nothing here: pytest-django gives each worker a test database of its own
(test_talaan_gw0, ...). Redis is one server for the whole run otherwise, and a database number
per worker would not be enough: `redis_outage` stops the server, Celery's control broadcasts
(the workers' pings) cross database numbers, and `celery_app.control.purge()` empties the
queue every worker's tests publish to. var/ holds the documents the live servers read
(MEDIA_ROOT), the mail and SMS files and the collected static files: two workers loading the
demo there would write, and delete, each other's files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, timeout=10)
    return ping.stdout.strip() == b"PONG"


def _start_redis(directory: Path) -> int:
    """A redis-server on a free port, started as scripts/with-services starts the run's own
    (daemonized, its pid in ``directory``/redis.pid), which is how `redis_outage` restarts it."""
    for _ in range(5):  # another process may take the free port before Redis binds it
        port = _free_port()
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "yes"]
        command += ["--pidfile", str(directory / "redis.pid"), "--dir", str(directory)]
        command += ["--logfile", str(directory / "redis.log")]
        subprocess.run(command, check=True, timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(port):
                return port
            time.sleep(0.05)
    log = (directory / "redis.log").read_text(errors="replace")[-3000:]
    raise RuntimeError(f"The worker's redis-server did not answer:\n{log}")


def _stop_redis(directory: Path, port: int) -> None:
    """Stop the worker's Redis (its pid may be a new one: `redis_outage` restarts it)."""
    pidfile = directory / "redis.pid"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(pidfile.read_text())
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():  # it did not answer the shutdown
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class _WorkerServices:
    def __init__(self, worker: str) -> None:
        services = os.environ.get("TALAAN_SERVICES_DIR")
        # Under scripts/with-services, inside its folder: it removes the folder, and stops a
        # Redis left running there, even when a worker dies.
        self.owned = not services
        if services:
            self.root = Path(services) / f"worker-{worker}"
            self.root.mkdir(exist_ok=True)
        else:
            self.root = Path(tempfile.mkdtemp(prefix=f"talaan-{worker}-"))
        os.environ["TALAAN_VAR_DIR"] = str(self.root / "var")
        self.redis_port: int | None = None
        shared_redis = os.environ.get("REDIS_URL")
        if shared_redis:
            self.redis_port = _start_redis(self.root)
            url = f"redis://127.0.0.1:{self.redis_port}/0"
            if os.environ.get("CELERY_BROKER_URL") == shared_redis:
                os.environ["CELERY_BROKER_URL"] = url
            os.environ["REDIS_URL"] = url
            os.environ["TALAAN_REDIS_PORT"] = str(self.redis_port)
            os.environ["TALAAN_SERVICES_DIR"] = str(self.root)

    def stop(self) -> None:
        if self.redis_port is not None:
            _stop_redis(self.root, self.redis_port)
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)


_services = _WorkerServices(_WORKER) if _WORKER else None


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _services is not None:
        _services.stop()
