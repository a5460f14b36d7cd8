"""Small helpers for tests that start servers of their own on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Loopback only: ignore any proxy configured in the environment.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_ok(url: str) -> bool:
    """Whether ``url`` answers 200 now (a readiness probe: any failure is a no)."""
    try:
        with _direct.open(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


@contextmanager
def own_redis(directory: Path) -> Iterator[tuple[int, Callable[[], None], Callable[[], None]]]:
    """A redis-server on a free port; yields (port, kill, start_again).

    ``kill`` is SIGKILL, as a crash; ``start_again`` starts it empty on the same port.
    """
    if not shutil.which("redis-server"):
        pytest.fail("This test needs redis-server on PATH.", pytrace=False)
    port = free_port()
    log = directory / "redis.log"
    processes: list[subprocess.Popen] = []

    def start() -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        command += ["--appendonly", "no", "--dir", str(directory), "--logfile", str(log)]
        processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + 15
        while (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout
            != b"PONG\n"
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer:\n{log_tail(log)}")
            time.sleep(0.05)

    def kill() -> None:
        processes[-1].kill()
        processes[-1].wait(15)

    start()
    try:
        yield port, kill, start
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(15)
