"""Small helpers for tests that start servers of their own on loopback."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

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
