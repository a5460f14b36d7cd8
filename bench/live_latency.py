"""How long from a committed decision to the message on the owner's open websocket.

The production path, end to end: the decision commits, ``on_commit`` queues the push task on
Redis, a real Celery worker runs it, ``group_send`` goes through the Redis channel layer, and
a real ASGI server (uvicorn) delivers it to the owner's websocket. Prints p50/p95/p99 over
``--decisions`` decisions (default 200), one at a time so each latency stands alone.

Run by ``make bench`` inside scripts/with-services (PostgreSQL and Redis on loopback).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "talaan.settings")


def clock() -> str:
    """Wall-clock time (UTC, ms) to line the bench's own events up with the servers' logs."""
    return dt.datetime.now(dt.UTC).strftime("%H:%M:%S.%f")[:-3] + " UTC"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Run this through `make bench` (needs PostgreSQL and Redis).")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("REDIS_URL must point at Redis: the Redis channel layer is measured.")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from clearance import services as clearance_services
    from tests.conftest import build_world, findings_for, sent_for_clearance

    world = build_world()
    claimed = []
    for _ in range(args.decisions):
        _, requests = sent_for_clearance(world)
        clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
        claimed.append(requests["HPG"])

    session = SessionStore()
    session["_auth_user_id"] = str(world.owner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = world.owner.get_session_auth_hash()
    session.create()

    # The setup queued a push (and e-mail) task for each of its own changes while no worker
    # ran: thousands of them at the default size. Left in the queue, the worker drains them
    # first, so each decision's push waits behind them, and an event of the setup for the same
    # request could be timed in its place. No page listens to them: drop them.
    from talaan.celery import app as celery_app

    celery_app.control.purge()

    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="talaan-bench-"))
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_POOL_SIZE": "10",  # as docker-compose.yml runs it (talaan/settings.py says why)
        # No mail server here: SMTP (the DEBUG=0 default) fails, and each decision's e-mails
        # would be retried eight times by the same four worker threads the pushes wait for.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    server = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "talaan.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
        logs / "uvicorn.log",
    )
    worker = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "talaan",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--loglevel",
            "INFO",
        ],
        env,
        logs / "celery.log",
    )
    try:
        wait_until(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").status == 200,
            30,
            "uvicorn",
        )
        wait_until(lambda: b"ready" in (logs / "celery.log").read_bytes(), 60, "celery worker")
        latencies = measure(world, claimed, port, session.session_key, findings_for)
    except BaseException:
        for name in ("uvicorn.log", "celery.log"):
            print(f"--- last lines of {name} ---", file=sys.stderr)
            lines = (logs / name).read_text(errors="replace").splitlines()
            print("\n".join(lines[-25:]), file=sys.stderr)
        raise
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    ms = sorted(latency * 1000 for latency in latencies)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    print("Talaan live-update latency (uvicorn + Celery worker + Redis channel layer)")
    print(
        f"decision committed → owner's websocket, {len(ms)} decisions: "
        f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, p99 {cuts[98]:.1f} ms, "
        f"max {ms[-1]:.1f} ms"
    )
    from bench.summary import emit, summary_line

    emit(summary_line("live push p95", cuts[94], "ms", goal="< 100 ms"))


def measure(world, claimed, port: int, session_key: str, findings_for) -> list[float]:  # type: ignore[no-untyped-def]
    """Decide each request in this thread; time until its event arrives on the socket."""
    import websockets

    from chaincode.rules import ClearanceStatus
    from clearance import services as clearance_services
    from notifications import live

    # on_commit callbacks run right after COMMIT: the first push queued for a request marks
    # the moment its decision was committed.
    committed_at: dict[int, float] = {}
    original_enqueue = live._enqueue_push

    def timed_enqueue(user_ids: list[int], payload: dict) -> None:
        if payload.get("event") == "clearance_changed":
            committed_at.setdefault(payload["request_id"], time.perf_counter())
        original_enqueue(user_ids, payload)

    live._enqueue_push = timed_enqueue

    arrivals: dict[int, float] = {}
    arrived = threading.Condition()
    ready = threading.Event()
    stop = threading.Event()
    lost: list[str] = []  # how the owner's socket ended, if it ended before `stop`

    async def listen() -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/live/",
            additional_headers={
                "Cookie": f"sessionid={session_key}",
                "Origin": f"http://127.0.0.1:{port}",
            },
        ) as socket_:
            ready.set()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(socket_.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                except websockets.ConnectionClosed as closed:
                    with arrived:
                        lost.append(describe_close(closed))
                        arrived.notify_all()
                    return
                message = json.loads(raw)
                if message.get("event") == "clearance_changed" and message.get("request_id"):
                    with arrived:
                        arrivals.setdefault(message["request_id"], time.perf_counter())
                        arrived.notify_all()

    def run_listener() -> None:
        try:
            asyncio.run(listen())
        except Exception as error:  # could not connect, or failed otherwise: say so, once
            with arrived:
                lost.append(f"the owner's websocket failed at {clock()}: {error!r}")
                arrived.notify_all()

    listener = threading.Thread(target=run_listener, daemon=True)
    listener.start()
    if not ready.wait(15):
        raise SystemExit(f"The owner's websocket did not connect. {' '.join(lost)}")

    latencies = []
    try:
        for request in claimed:
            clearance_services.clearance_decide(
                request_id=request.pk,
                officer=world.hpg_officer,
                decision=ClearanceStatus.APPROVED,
                remarks="Numbers match.",
                findings=findings_for(request),
            )
            decided = clock()
            with arrived:
                arrived.wait_for(lambda r=request: r.pk in arrivals or lost, timeout=10)
                if request.pk not in arrivals:
                    raise SystemExit(
                        f"No live event for request {request.pk} (decided at {decided}): "
                        + (lost[0] if lost else f"none within 10 s, {waiting_tasks()}.")
                    )
                latencies.append(arrivals[request.pk] - committed_at[request.pk])
    finally:
        live._enqueue_push = original_enqueue
        # Close the socket from this side before the servers stop: their shutdown would
        # close it with 1012, which is the end of the run, not a failure of the push.
        stop.set()
        listener.join(timeout=5)
    return latencies


def describe_close(closed) -> str:  # type: ignore[no-untyped-def]
    """Which side closed the owner's socket, with what code and reason, and when."""
    if closed.rcvd is None:
        return (
            f"the owner's websocket was lost at {clock()} without a close frame from the server "
            "(code 1006: the server's process or its consumer ended, or the connection was reset)"
        )
    first = "the server closed" if closed.rcvd_then_sent is not False else "this side closed"
    return (
        f"{first} the owner's websocket at {clock()} with code {closed.rcvd.code} "
        f"({closed.rcvd.reason or describe_code(closed.rcvd.code)})"
    )


def describe_code(code: int) -> str:
    from websockets.frames import CloseCode

    try:
        return CloseCode(code).name.lower().replace("_", " ")
    except ValueError:
        return "no reason given"


def waiting_tasks() -> str:
    """How many tasks wait in the Celery queue: a backlog delays every push behind it."""
    import redis

    try:
        count = redis.Redis.from_url(os.environ["REDIS_URL"]).llen("celery")
    except redis.RedisError as error:
        return f"Redis did not answer ({error})"
    return f"the owner's websocket still open, {count} tasks waiting in the Celery queue"


if __name__ == "__main__":
    main()
