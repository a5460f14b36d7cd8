"""Run every benchmark, each on its own throwaway services, and end with all their SUMMARY lines.

    make bench                        # what this runs, at BENCH_SCALE (default 1.0)
    python bench/run_all.py --scale 0.05
    python bench/run_all.py --tiny    # each bench once at a tiny size (tests/test_bench_tiny.py)

A bench that fails does not stop the others: its output is shown as it comes, a SUMMARY
line says it FAILED and why, and the next one runs. The exit status is non-zero only if
one failed, after all of them ran.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.summary import SUMMARY_PATTERN, malformed, missing_line  # noqa: E402


@dataclass(frozen=True)
class Bench:
    script: str
    arguments: list[str]
    tiny: list[str]


def benches(scale: str, decide_arguments: list[str]) -> list[Bench]:
    return [
        Bench(
            "bench/decide.py",
            decide_arguments,
            ["--requests", "4", "--workers", "2", "--commit-seconds", "0.5"],
        ),
        Bench("bench/live_latency.py", [], ["--decisions", "3"]),
        Bench("bench/status_lookup.py", [], ["--requests", "40", "--concurrency", "2"]),
        Bench(
            "bench/scale.py",
            ["--scale", scale],
            ["--scale", "0.0005", "--samples", "1"],
        ),
    ]


def run(
    bench: Bench, arguments: list[str], timeout: float | None, *, shared: bool = False
) -> tuple[list[str], str | None]:
    """Run one bench under scripts/with-services (or in the services this process has, when
    ``shared``), echoing its output; its SUMMARY lines and why it failed (None if it did not)."""
    command = [sys.executable, bench.script, *arguments]
    if not shared:
        command = [str(ROOT / "scripts" / "with-services"), *command]
    print(f"=== {bench.script} {' '.join(arguments)}", flush=True)
    began = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    tail: collections.deque[str] = collections.deque(maxlen=20)
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
        if line.strip():
            tail.append(line.strip())
        if timeout is not None and time.monotonic() - began > timeout:
            process.kill()
            break
    try:
        status = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        status = process.wait()
    output = "\n".join(lines)
    summaries = [line for line in lines if SUMMARY_PATTERN.match(line)]
    seconds = time.monotonic() - began
    print(f"=== {bench.script}: exit status {status} after {seconds:.0f} s", flush=True)
    reason = None
    if timeout is not None and seconds > timeout:
        reason = f"stopped after {timeout:.0f} s"
    elif status != 0:
        last = next((line for line in reversed(tail) if not line.startswith("SUMMARY")), "")
        reason = f"exit status {status}: {last[:200]}"
    elif not summaries:
        reason = "printed no SUMMARY line"
    elif bad := malformed(output):
        reason = f"malformed SUMMARY line: {bad[0][:200]}"
    return summaries, reason


MIGRATED_TEMPLATE = "talaan_bench_migrated"


def fresh_shared_database(first: bool) -> None:
    """Give the next bench a just-migrated database of its own in the shared services.

    The benches' factories number rows from 0 in each process, so two benches cannot share
    one database; migrating it again for each would double --tiny's time. The database is
    migrated once, kept as a template, and each bench gets a copy of it (a file copy).
    """
    import psycopg
    import redis
    from psycopg import sql

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    if first:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True
        )
    with psycopg.connect(maintenance, autocommit=True) as admin:
        if first:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(MIGRATED_TEMPLATE))
            )
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(MIGRATED_TEMPLATE), sql.Identifier(name)
                )
            )
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(MIGRATED_TEMPLATE)
            )
        )
    if os.environ.get("REDIS_URL"):
        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no task left for the next


def main(argv: list[str] | None = None, chosen: list[Bench] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1", help="BENCH_SCALE for bench/scale.py (0 skips)")
    parser.add_argument("--decide-args", default="", help="extra arguments for bench/decide.py")
    parser.add_argument("--tiny", action="store_true", help="each bench once at a tiny size")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per bench")
    parser.add_argument(
        "--shared-services",
        action="store_true",
        help="run every bench in the PostgreSQL and Redis of DATABASE_URL and REDIS_URL, one "
        "after the other in the same database (quicker; for --tiny, where the benches' rows "
        "do not disturb each other's figures)",
    )
    args = parser.parse_args(argv)
    if args.shared_services and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("--shared-services needs DATABASE_URL (run it under scripts/with-services)")
    try:
        if float(args.scale) < 0:
            raise ValueError
    except ValueError:
        parser.error(f"--scale must be a number >= 0, not {args.scale!r}")

    gathered: list[str] = []
    failures = 0
    every = chosen if chosen is not None else benches(args.scale, args.decide_args.split())
    for index, bench in enumerate(every):
        if args.shared_services:
            fresh_shared_database(first=index == 0)
        arguments = bench.tiny if args.tiny else bench.arguments
        summaries, reason = run(bench, arguments, args.timeout, shared=args.shared_services)
        gathered += summaries
        if reason is not None:
            failures += 1
            gathered.append(missing_line(bench.script, reason))
    print("\n=== SUMMARY of every benchmark")
    for line in gathered:
        print(line)
    print(f"=== {failures} of {len(every)} benchmarks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
