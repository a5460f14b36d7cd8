"""Clearance decisions per second on PostgreSQL, next to this machine's raw commit rate.

    make bench                                   # 600 requests, 8 workers
    make bench BENCH_ARGS="--requests 200 --workers 4"

Run under scripts/with-services, which provides a fresh PostgreSQL database in DATABASE_URL
(and Redis, so notifications are queued the way production queues them). The script:

1. migrates that database and builds a small LTO office (the tests' ``build_world``);
2. files applications, sends them for clearance and has the HPG officer claim each HPG
   request, so there are requests in review to decide (setup, not part of any timing);
3. decides them through ``clearance_decide`` with K threads, each with its own database
   connection, then a smaller batch with one thread for the serial latency;
4. measures the raw commit rate of the same server: K psycopg connections committing
   single-row UPDATE transactions (and pgbench's tpcb-like script when pgbench is on PATH);
5. decides a second batch the same way with the embedded ledger's writes only inserting their
   leaves, while ``manage.py ledger_sequencer`` (its own process) integrates them: the
   decisions/s beside the first batch's (each write integrating itself, so every write locks
   the tree's head row until it commits, as before the log was tiled), the integration delay
   (a leaf's write to its integration) and the time of inclusion and consistency proofs;
6. checks that every decision landed (status, history, ``verify_ledger``).

Workers are threads of this process (one interpreter lock), the sequencer a process of its
own; both batches run the same way, so their ratio compares the ledger paths alone.

It only prints a report; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import io
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from clearance.kinds.hpg import HpgFindings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# pgbench's database is created and dropped beside the app's, never inside it.
PGBENCH_DATABASE = "talaan_bench_pgbench"


@dataclass(frozen=True)
class Job:
    """One HPG request in review, and the findings that let the officer approve it."""

    request_id: int
    findings: HpgFindings


@dataclass
class Run:
    """What one timed pass over a batch of jobs produced."""

    workers: int
    wall_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    decided: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.decided) / self.wall_seconds if self.wall_seconds else 0.0

    def summary(self) -> str:
        noun = "worker thread" if self.workers == 1 else "worker threads"
        text = (
            f"{len(self.decided)} decisions in {self.wall_seconds:.1f} s = "
            f"{self.rate:.1f} decisions/s; latency {percentiles(self.latencies)}; "
            f"failures {len(self.failures)}"
        )
        if self.failures:
            text += f" (first: {self.failures[0]})"
        return f"decide, {self.workers} {noun}: {text}"


def percentiles(samples: list[float]) -> str:
    """p50/p95/p99 of latencies given in seconds, in milliseconds."""
    if len(samples) < 2:
        return "n/a (fewer than 2 samples)"
    # 99 cut points; "inclusive" keeps them within the observed range for small batches.
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    p50, p95, p99 = (cuts[i - 1] * 1000 for i in (50, 95, 99))
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="requests decided by K workers")
    parser.add_argument("--workers", type=int, default=8, help="concurrent workers (K)")
    parser.add_argument(
        "--commit-seconds", type=float, default=5.0, help="duration of the raw commit loop"
    )
    parser.add_argument(
        "--no-pgbench", action="store_true", help="skip pgbench even when it is on PATH"
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.workers < 1 or args.commit_seconds <= 0:
        parser.error("--requests, --workers and --commit-seconds must be positive")
    return args


def database_url() -> str:
    """The PostgreSQL URL to benchmark; anything else would measure the wrong thing."""
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(
            "bench/decide.py measures PostgreSQL: set DATABASE_URL to a postgres:// URL, "
            "or run it through `make bench` (scripts/with-services provides one)."
        )
    return url


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "talaan.settings")
    import django
    from django.conf import settings

    django.setup()
    # Weak hashing before any user exists: setup creates users and nobody logs in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def server_description() -> str:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        values = []
        for name in ("server_version", "fsync", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            values.append(cursor.fetchone()[0])
    version, fsync, synchronous_commit = values
    return (
        f"PostgreSQL {version.split()[0]}, {settings.LEDGER_BACKEND} ledger, "
        f"fsync {fsync}, synchronous_commit {synchronous_commit}, {os.cpu_count()} CPUs"
    )


def prepare(count: int) -> tuple[AbstractBaseUser, list[Job]]:
    """File ``count`` applications, send each for clearance and claim its HPG request."""
    from clearance.services import clearance_claim
    from tests.conftest import build_world, sent_for_clearance
    from tests.factories import hpg_findings

    world = build_world()
    jobs = []
    for _ in range(count):
        application, requests = sent_for_clearance(world)
        hpg = requests["HPG"]
        clearance_claim(request_id=hpg.pk, officer=world.hpg_officer)
        jobs.append(Job(hpg.pk, hpg_findings(application.vehicle)))
    return world.hpg_officer, jobs


def decide_all(jobs: list[Job], officer: AbstractBaseUser, workers: int) -> Run:
    """Approve every job through the service layer with ``workers`` threads; time each call."""
    from django.db import connection

    from chaincode.rules import ClearanceStatus
    from clearance.services import clearance_decide

    pending: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    run = Run(workers=workers)
    lock = threading.Lock()
    start_line = threading.Barrier(workers + 1)

    def worker() -> None:
        latencies: list[float] = []
        decided: list[int] = []
        failures: list[str] = []
        connected = True
        try:
            connection.ensure_connection()  # this thread's own connection, opened untimed
        except Exception as exc:
            connected = False
            failures.append(f"connect: {type(exc).__name__}: {exc}")
        # Wait at the start line even after a failed connect, or the main thread never starts.
        start_line.wait()
        try:
            while connected:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    break
                began = time.perf_counter()
                try:
                    clearance_decide(
                        request_id=job.request_id,
                        officer=officer,
                        decision=ClearanceStatus.APPROVED,
                        remarks="Numbers match.",
                        findings=job.findings,
                    )
                except Exception as exc:  # counted and reported; the run goes on
                    failures.append(f"request {job.request_id}: {type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - began)
                decided.append(job.request_id)
        finally:
            connection.close()
            with lock:
                run.latencies.extend(latencies)
                run.decided.extend(decided)
                run.failures.extend(failures)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    run.wall_seconds = time.perf_counter() - started
    return run


def timed_workers(
    url: str,
    workers: int,
    seconds: float,
    step: Callable[[Any, int, int], bool],
    prepare: Callable[[Any, int], None] = lambda conn, index: None,
) -> tuple[int, float]:
    """``workers`` connections, released together, each running ``step(conn, index, done)``
    (one committed transaction; False when it has no more to do) until ``seconds`` pass.

    ``prepare(conn, index)`` runs on each connection before the start. Returns the
    transactions committed and the seconds measured; each thread's last transaction in
    flight when the stop was set is included, as it is counted.
    """
    import psycopg

    counts = [0] * workers
    start_line = threading.Barrier(workers + 1)
    stop = threading.Event()

    def worker(index: int) -> None:
        try:
            conn = psycopg.connect(url)  # autocommit off: each step commits its transaction
        except psycopg.Error:
            start_line.abort()  # the main thread fails at the start line, not hangs
            raise
        with conn:
            prepare(conn, index)
            start_line.wait()
            done = 0
            while not stop.is_set() and step(conn, index, done):
                done += 1
            counts[index] = done

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts), time.perf_counter() - started


def raw_commit_rate(url: str, workers: int, seconds: float) -> tuple[float, int, int]:
    """Single-row UPDATE transactions, each committed, from ``workers`` connections.

    Each connection updates its own row, so rows never contend and the rate is what the
    server's commit path (WAL flush with fsync, group commit) allows. Returns commits per
    second, the commits counted, and the increments the table holds (they should be equal).
    """
    import psycopg

    def update_own_row(conn: Any, index: int, done: int) -> bool:
        conn.execute("UPDATE bench_commit SET n = n + 1 WHERE id = %s", (index + 1,))
        conn.commit()
        return True

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS bench_commit")
        admin.execute("CREATE TABLE bench_commit (id int PRIMARY KEY, n bigint NOT NULL)")
        admin.execute(
            "INSERT INTO bench_commit SELECT g, 0 FROM generate_series(1, %s) AS g", (workers,)
        )
    try:
        total, elapsed = timed_workers(url, workers, seconds, update_own_row)
        with psycopg.connect(url, autocommit=True) as admin:
            stored = admin.execute("SELECT sum(n) FROM bench_commit").fetchone()[0]
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("DROP TABLE IF EXISTS bench_commit")
    return total / elapsed, total, int(stored)


def pgbench_path() -> str | None:
    """pgbench on PATH, or beside the server scripts/with-services runs (the same package)."""
    found = shutil.which("pgbench")
    if found:
        return found
    beside = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(beside[-1]) if beside else None


def minimal_decision_rate(url: str, workers: int, seconds: float) -> float:
    """Decisions/s of the smallest transaction a decision needs, written straight in psycopg.

    Each transaction locks one open request row, sets its status and appends one history
    row, then commits: what a decision must do at least, without the app's checks, ledger
    write, notifications or ORM. Each worker has its own rows, so none waits on another.
    """
    import psycopg

    per_worker = 100_000

    def own_rows(conn: Any, index: int) -> None:
        first = index * per_worker
        conn.execute(
            "INSERT INTO bench_decision SELECT g, 'in_review' FROM generate_series(%s, %s) AS g",
            (first, first + per_worker - 1),
        )
        conn.commit()

    def decide(conn: Any, index: int, done: int) -> bool:
        if done >= per_worker:
            return False
        row = index * per_worker + done
        conn.execute("SELECT status FROM bench_decision WHERE id = %s FOR UPDATE", (row,))
        conn.execute(
            "UPDATE bench_decision SET status = 'approved', decided_at = now() WHERE id = %s",
            (row,),
        )
        conn.execute(
            "INSERT INTO bench_decision_history (request_id, to_status) VALUES (%s, 'approved')",
            (row,),
        )
        conn.commit()
        return True

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS bench_decision_history, bench_decision")
        admin.execute(
            "CREATE TABLE bench_decision (id bigint PRIMARY KEY, status text NOT NULL, "
            "decided_at timestamptz)"
        )
        admin.execute(
            "CREATE TABLE bench_decision_history (id bigserial PRIMARY KEY, "
            "request_id bigint NOT NULL REFERENCES bench_decision, to_status text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
    try:
        total, elapsed = timed_workers(url, workers, seconds, decide, prepare=own_rows)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("DROP TABLE IF EXISTS bench_decision_history, bench_decision")
    return total / elapsed


def pgbench_rate(url: str, workers: int, seconds: float) -> float | None:
    """pgbench's tpcb-like tps on a throwaway database, or None if it could not run."""
    import psycopg
    from psycopg import sql

    pgbench = pgbench_path()
    if pgbench is None:
        return None
    target = urlsplit(url)._replace(path=f"/{PGBENCH_DATABASE}").geturl()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(PGBENCH_DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PGBENCH_DATABASE)))
    try:
        # Scale >= clients, as pgbench's documentation advises, so branch rows do not contend.
        init = [pgbench, "-i", "-q", "-s", str(workers), target]
        subprocess.run(init, check=True, capture_output=True, text=True)
        test = [
            pgbench,
            "-c",
            str(workers),
            "-j",
            str(workers),
            "-T",
            str(max(1, round(seconds))),
            target,
        ]
        result = subprocess.run(test, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        last_line = (exc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        print(f"pgbench failed: {last_line[0]}", file=sys.stderr)
        return None
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(PGBENCH_DATABASE))
            )
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    return float(match.group(1)) if match else None


def decide_with_sequencer(jobs: list[Job], officer: AbstractBaseUser, workers: int) -> Run:
    """Decide ``jobs`` with writes that only insert their leaves, while the sequencer process
    integrates them; return once every leaf is in the log."""
    from django.conf import settings

    from ledger import log

    env = {**os.environ, "LEDGER_SEQUENCER": "sequencer"}
    sequencer = subprocess.Popen(
        [sys.executable, "manage.py", "ledger_sequencer", "--interval", "0.005"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    # Its start-up (Django, a connection, the lease) is not part of any integration delay.
    assert sequencer.stdout is not None
    ready = sequencer.stdout.readline()
    if not ready.startswith("sequencer: holding the lease"):
        sequencer.kill()
        sys.exit(f"ledger_sequencer did not start: {ready!r}")
    settings.LEDGER_SEQUENCER = "sequencer"
    try:
        run = decide_all(jobs, officer, workers)
        give_up = time.monotonic() + 60
        while log.merge_delay() is not None and time.monotonic() < give_up:
            time.sleep(0.05)
    finally:
        settings.LEDGER_SEQUENCER = "in-process"
        sequencer.terminate()
        sequencer.wait(timeout=30)
    return run


def integration_delays(after_seq: int) -> list[float]:
    """Seconds from each leaf's write to its integration, for the entries after ``after_seq``."""
    from ledger.models import LedgerEntry

    rows = LedgerEntry.objects.filter(seq__gt=after_seq, integrated_at__isnull=False)
    return [
        (integrated - written).total_seconds()
        for written, integrated in rows.values_list("timestamp", "integrated_at")
    ]


def proof_times(samples: int) -> tuple[int, list[float], list[float]]:
    """The tree's size and the seconds each of ``samples`` inclusion and consistency proofs
    took at random places (read from the tiles, as the API serves them)."""
    import random

    from ledger import get_ledger
    from ledger.models import LedgerCheckpoint, LedgerEntry

    ledger = get_ledger()
    size = LedgerCheckpoint.objects.order_by("-size").values_list("size", flat=True).first() or 0
    if size < 2:
        return size, [], []
    rng = random.Random(17)
    inclusion, consistency = [], []
    for _ in range(samples):
        position = rng.randrange(size)
        seq = LedgerEntry.objects.filter(position=position).values_list("seq", flat=True).get()
        began = time.perf_counter()
        ledger.inclusion_proof(seq)
        inclusion.append(time.perf_counter() - began)
        began = time.perf_counter()
        ledger.consistency_proof(rng.randrange(1, size), size)
        consistency.append(time.perf_counter() - began)
    return size, inclusion, consistency


def p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def print_log_summary(
    workers: int, in_process: Run, sequenced: Run, delays: list[float], proofs: tuple
) -> None:
    """The SUMMARY lines of the transparency log: its write path, its sequencer, its proofs."""
    from bench.summary import emit, missing_line, summary_line

    emit(
        summary_line(
            f"decisions/s, {workers} workers, leaves integrated by the sequencer",
            sequenced.rate,
            "decisions/s",
            other="each write integrating itself (the head row locked by every write)",
            other_value=in_process.rate,
            ratio=sequenced.rate / in_process.rate if in_process.rate else None,
            goal="none set here (issue 18 compares the ledger's whole cost)",
        )
    )
    if delays:
        emit(
            summary_line(
                "integration delay p95 (leaf written -> in the log)",
                p95(delays) * 1000,
                "ms",
                goal="< 100 ms",
            )
        )
    else:
        emit(missing_line("integration delay p95 (leaf written -> in the log)", "no leaves"))
    size, inclusion, consistency = proofs
    for name, samples in (("inclusion", inclusion), ("consistency", consistency)):
        figure = f"{name} proof p95, tree of {size} entries"
        if samples:
            emit(summary_line(figure, p95(samples) * 1000, "ms", goal="< 5 ms at 1M entries"))
        else:
            emit(missing_line(figure, "the tree is too small", failed=False))


def approved_history_count() -> int:
    from chaincode.rules import ClearanceStatus
    from clearance.models import ClearanceStatusChange

    return ClearanceStatusChange.objects.filter(to_status=ClearanceStatus.APPROVED).count()


def checks(decided: list[int], history_before: int) -> str:
    """Every decision landed: status approved, one history row each, a consistent ledger."""
    from django.core.management import CommandError, call_command

    from chaincode.rules import ClearanceStatus
    from clearance.models import ClearanceRequest

    approved = ClearanceRequest.objects.filter(
        pk__in=decided, status=ClearanceStatus.APPROVED
    ).count()
    history = approved_history_count() - history_before
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
        ledger = out.getvalue().strip()
    except CommandError as exc:
        ledger = f"FAILED: {exc}; {err.getvalue().strip()}"
    flag = "" if approved == history == len(decided) else "  <-- MISMATCH"
    return (
        f"checks: {len(decided)} decided, {approved} approved, {history} approval history rows"
        f"{flag}\nverify_ledger: {ledger}"
    )


def print_summary(
    concurrent: Run,
    serial: Run,
    workers: int,
    minimal: float,
    tps: float | None,
    missing: str,
    commits: float,
) -> None:
    """The SUMMARY lines: the app's rate beside what the same server does without the app."""
    from bench.summary import emit, missing_line, summary_line

    figure = f"decisions/s, {workers} workers"
    goal = "none set (issue 17 compares, sets no limit)"
    if tps is None:
        emit(missing_line(f"pgbench tpcb-like tps, {workers} clients", missing, failed=False))
    else:
        emit(
            summary_line(
                figure,
                concurrent.rate,
                "decisions/s",
                other=f"pgbench tpcb-like, {workers} clients",
                other_value=tps,
                ratio=concurrent.rate / tps,
                goal=goal,
            )
        )
    emit(
        summary_line(
            figure,
            concurrent.rate,
            "decisions/s",
            other="minimal decision transaction in psycopg",
            other_value=minimal,
            ratio=concurrent.rate / minimal if minimal else None,
            goal=goal,
        )
    )
    emit(
        summary_line(
            figure,
            concurrent.rate,
            "decisions/s",
            other="raw single-row commits",
            other_value=commits,
            ratio=concurrent.rate / commits if commits else None,
            goal=goal,
        )
    )
    if len(serial.latencies) >= 2:
        cuts = statistics.quantiles(serial.latencies, n=100, method="inclusive")
        emit(summary_line("decision latency p95, 1 worker", cuts[94] * 1000, "ms", goal=goal))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url()
    # Setup takes minutes: show each line as it is printed, even through a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    serial_count = max(min(100, args.requests), args.requests // 6)

    print(f"Talaan decide benchmark ({server_description()})")
    began = time.perf_counter()
    officer, jobs = prepare(2 * args.requests + serial_count)
    setup_seconds = time.perf_counter() - began
    concurrent_jobs, sequenced_jobs, serial_jobs = (
        jobs[: args.requests],
        jobs[args.requests : 2 * args.requests],
        jobs[2 * args.requests :],
    )
    print(
        f"setup: {len(jobs)} applications sent for clearance, {len(jobs)} HPG requests in "
        f"review ({setup_seconds:.1f} s, not timed below)"
    )
    # Other work on the machine skews every number below; say how busy it was.
    print(f"load average at start of timing: {os.getloadavg()[0]:.2f}")
    history_before = approved_history_count()
    concurrent = decide_all(concurrent_jobs, officer, args.workers)
    print(concurrent.summary())
    serial = decide_all(serial_jobs, officer, 1)
    print(serial.summary())
    from ledger.models import LedgerEntry

    last_seq = LedgerEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    sequenced = decide_with_sequencer(sequenced_jobs, officer, args.workers)
    print(f"with the sequencer: {sequenced.summary()}")
    delays = integration_delays(last_seq)
    proofs = proof_times(min(200, 10 * args.requests))

    commits_per_second, counted, stored = raw_commit_rate(url, args.workers, args.commit_seconds)
    print(
        f"raw PostgreSQL commits, {args.workers} workers: {commits_per_second:.0f} commits/s "
        f"(single-row UPDATE transactions, {counted} in {args.commit_seconds:g} s"
        f"{'' if counted == stored else f'; table holds {stored}!'})"
    )
    minimal = minimal_decision_rate(url, args.workers, args.commit_seconds)
    print(
        f"minimal decision transaction in psycopg, {args.workers} workers: {minimal:.0f} "
        "decisions/s (lock the request, set its status, append a history row, commit)"
    )
    tps = None
    if args.no_pgbench:
        missing = "skipped (--no-pgbench)"
    elif pgbench_path() is None:
        missing = "pgbench not found (Debian: postgresql or postgresql-contrib)"
    else:
        tps = pgbench_rate(url, args.workers, args.commit_seconds)
        missing = "pgbench did not report a rate"
    if tps is not None:
        print(f"pgbench tpcb-like, {args.workers} clients: {tps:.0f} tps")
    print(
        f"ratio: decisions/s / raw commits/s = {concurrent.rate:.1f} / "
        f"{commits_per_second:.0f} = {concurrent.rate / commits_per_second:.3f}"
        + (f" (vs pgbench tps: {concurrent.rate / tps:.3f})" if tps else "")
    )
    landed = checks(concurrent.decided + serial.decided + sequenced.decided, history_before)
    print(landed)
    print_summary(concurrent, serial, args.workers, minimal, tps, missing, commits_per_second)
    print_log_summary(args.workers, concurrent, sequenced, delays, proofs)
    failed = concurrent.failures or serial.failures or sequenced.failures
    if failed or "MISMATCH" in landed or "FAILED" in landed:
        print("decide: some decisions failed or did not land (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
