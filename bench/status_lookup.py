"""Status lookups per second through a real server, with and without If-None-Match.

    make bench                                        # part of the bench target
    python bench/status_lookup.py --requests 3000 --concurrency 8   # under with-services

Run under scripts/with-services (a fresh PostgreSQL in DATABASE_URL, Redis in REDIS_URL).
The script migrates that database, builds a small LTO office (the tests' ``build_world``),
sends applications for clearance and issues an HPG key with the read scope, then starts one
uvicorn process on 127.0.0.1 with the bench URLs (bench/bench_urls.py: the project's URLs
plus a trivial view) and measures, against that same process, one after the other:

1. the trivial view (no database, no template): the floor under any request;
2. ``GET /api/v1/status/?reference=…`` with the key: 200 with a body and an ``ETag``;
3. the same with ``If-None-Match`` set to that ETag: 304, no body.

Each is a fixed number of requests over ``--concurrency`` keep-alive connections, after a
warm-up; it prints requests/s and p50/p95 latency. The key's throttle is raised so that it
does not cap the rate (it still counts every request in Redis). Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "talaan.settings")


@dataclass
class Result:
    label: str
    status: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        count = len(self.latencies)
        cuts = statistics.quantiles(self.latencies, n=100)
        return (
            f"{self.label:<34} {self.status:>3}  {count / self.seconds:8.0f} req/s  "
            f"p50 {cuts[49] * 1000:6.2f} ms  p95 {cuts[94] * 1000:6.2f} ms  ({count} requests)"
        )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hammer(
    port: int, path: str, headers: dict[str, str], *, total: int, concurrency: int, expect: int
) -> tuple[float, list[float]]:
    """``total`` GETs of ``path`` over ``concurrency`` keep-alive connections."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[str] = []
    share = [
        total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)
    ]
    start = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        for _ in range(share[index]):
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies[index].append(time.perf_counter() - began)
            if response.status != expect and len(errors) < 5:
                errors.append(f"{response.status} for {path}")
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise SystemExit(f"unexpected answers: {errors}")
    return seconds, [value for values in latencies for value in values]


def prepare() -> tuple[str, str]:
    """A reference the key may see, and the key (setup, not timed)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from organisations.services import api_key_create
    from tests.conftest import build_world, claim_and_approve, sent_for_clearance

    world = build_world()
    application, requests = sent_for_clearance(world)
    claim_and_approve(world, requests["HPG"])  # a lookup that shows a ledger receipt
    for _ in range(20):  # other applications, so the lookup is not alone in its tables
        sent_for_clearance(world)
    _, key = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="bench", scopes=["read"]
    )
    return application.reference, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Run this through `make bench` (needs PostgreSQL and Redis).")
    sys.stdout.reconfigure(line_buffering=True)
    reference, key = prepare()

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="talaan-bench-")) / "uvicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_POOL_SIZE": "10",  # as docker-compose.yml runs it (talaan/settings.py says why)
        "API_THROTTLE_KEY": "10000000/min",
    }
    command = [sys.executable, "-m", "uvicorn", "talaan.asgi:application"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/bench/bare/")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"uvicorn did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

        auth = {"Authorization": f"Bearer {key}"}
        lookup = f"/api/v1/status/?reference={reference}"
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        probe.request("GET", lookup, headers=auth)
        first = probe.getresponse()
        first.read()
        etag = first.getheader("ETag")
        if first.status != 200 or not etag:
            raise SystemExit(f"the status lookup answered {first.status} without an ETag")

        cases = [
            ("bare Django view", "/bench/bare/", {}, 200),
            ("status lookup", lookup, auth, 200),
            ("status lookup, If-None-Match", lookup, {**auth, "If-None-Match": etag}, 304),
        ]
        print(
            f"Talaan status lookup benchmark: one uvicorn process, {args.concurrency} keep-alive "
            f"connections, {args.requests} requests each, after {args.requests // 10} to warm up"
        )
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        results = []
        for label, path, headers, status in cases:
            hammer(
                port,
                path,
                headers,
                total=args.requests // 10,
                concurrency=args.concurrency,
                expect=status,
            )
            seconds, latencies = hammer(
                port,
                path,
                headers,
                total=args.requests,
                concurrency=args.concurrency,
                expect=status,
            )
            results.append(Result(label, status, seconds, latencies))
            print(results[-1].line())
        bare, full, cached = (len(r.latencies) / r.seconds for r in results)
        print(
            f"status lookup: {full / bare:.0%} of the bare view's rate; with If-None-Match "
            f"{cached / bare:.0%} ({cached / full:.2f}x the full lookup)"
        )
        from bench.summary import emit, summary_line

        for label, rate, goal in (
            ("status lookup with If-None-Match", cached, 0.8),
            ("status lookup without If-None-Match", full, 0.5),
        ):
            emit(
                summary_line(
                    label,
                    rate,
                    "req/s",
                    other="bare Django view",
                    other_value=bare,
                    ratio=rate / bare,
                    goal=f"ratio >= {goal}",
                )
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
