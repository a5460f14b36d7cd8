"""Every benchmark runs once at a tiny size, so none can rot unseen (no timing is asserted).

Each bench runs as `make bench` runs it: bench/run_all.py starts it under scripts/with-services
(its own throwaway PostgreSQL and Redis) and gathers its SUMMARY lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.decide import pgbench_path
from bench.run_all import Bench, main
from bench.summary import malformed, parse

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (ROOT / "scripts" / "with-services").exists(), reason="needs scripts/with-services"
)


def bench_environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DEBUG": "0", **extra}
    env.setdefault("SECRET_KEY", "test-only-secret-key-for-the-throwaway-test-run-0123456789")
    return env


@pytest.mark.timeout(900)
def test_every_bench_runs_at_a_tiny_size_and_ends_with_summary_lines(tmp_path):
    result = subprocess.run(
        # One set of services for all of them: four migrations of a fresh database would
        # double the test's time.
        [
            "scripts/with-services",
            sys.executable,
            "bench/run_all.py",
            "--tiny",
            "--shared-services",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=bench_environment(BENCH_CACHE_DIR=str(tmp_path / "cache")),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    gathered = output.split("=== SUMMARY of every benchmark", 1)[1]
    assert malformed(gathered) == []
    lines = parse(gathered)
    assert not [m.group(0) for m in lines if m["value"] == "FAILED"], gathered
    # One figure may be compared with several others, a line each (decisions/s).
    figures = {match["figure"]: match for match in lines}

    decisions = [m for m in lines if m["figure"].startswith("decisions/s")]
    others = {m["other"] for m in decisions}
    assert "minimal decision transaction in psycopg" in others
    if pgbench_path() is not None:
        assert "pgbench tpcb-like, 2 clients" in others
    else:
        assert "pgbench tpcb-like tps, 2 clients" in figures
    for name in ("status lookup with If-None-Match", "status lookup without If-None-Match"):
        assert figures[name]["other"] == "bare Django view"
        assert float(figures[name]["ratio"]) > 0
    assert figures["live push p95"]["unit"] == "ms"
    scale = {name: m for name, m in figures.items() if name.startswith("scale 0.0005 ")}
    for page in ("LTO search by VIN", "LTO list, overdue filter", "owner dashboard"):
        assert scale[f"scale 0.0005 {page} p95"]["unit"] == "ms"
    assert all(m["goal"] == "< 100 ms" for m in scale.values())
    # The data set was generated and saved for the next run at this scale.
    assert "generated, cached in" in output
    assert list((tmp_path / "cache").glob("v*-scale0.0005-*/toc.dat"))


def test_a_failing_bench_is_reported_with_its_reason_and_the_next_one_still_runs(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text(
        "import sys\nprint('SUMMARY half done = 1 ms | goal < 2 ms')\n"
        "sys.exit('the database went away')\n"
    )
    fine = tmp_path / "fine.py"
    fine.write_text("print('SUMMARY whole = 3 ms | goal < 4 ms')\n")

    status = main([], [Bench(str(broken), [], []), Bench(str(fine), [], [])])

    assert status == 1
    gathered = capsys.readouterr().out.split("=== SUMMARY of every benchmark", 1)[1]
    lines = {m["figure"]: m for m in parse(gathered)}
    assert list(lines) == ["half done", str(broken), "whole"]
    assert lines[str(broken)]["value"] == "FAILED"
    assert "exit status 1: the database went away" in lines[str(broken)]["goal"]


def test_scale_zero_skips_the_big_bench_with_a_line_saying_so():
    result = subprocess.run(
        [sys.executable, "bench/scale.py", "--scale", "0"],
        cwd=ROOT,
        env=bench_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [line] = parse(result.stdout)
    assert line["value"] == "unavailable"
    assert "BENCH_SCALE=0" in line["goal"]


def _load_tiny_data_set(cache: Path) -> str:
    result = subprocess.run(
        [
            "scripts/with-services",
            sys.executable,
            "bench/scale.py",
            "--scale",
            "0.0005",
            "--load-only",
        ],
        cwd=ROOT,
        env=bench_environment(BENCH_CACHE_DIR=str(cache)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def _statistics(output: str) -> int:
    [count] = re.findall(r"planner statistics on ([\d,]+) columns", output)
    return int(count.replace(",", ""))


def _rows(output: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith("rows: ")]
    return line


@pytest.mark.timeout(900)
def test_a_second_run_restores_the_cached_data_set_with_every_row(tmp_path):
    cache = tmp_path / "cache"
    built = _load_tiny_data_set(cache)
    assert "generated, cached in" in built
    [dump] = cache.glob("v*-scale0.0005-*")

    # Each run has its own fresh PostgreSQL: the second finds nothing but the cache.
    restored = _load_tiny_data_set(cache)

    assert f"restored from {dump}" in restored
    assert "generated" not in restored and "template unit" not in restored
    assert _rows(restored) == _rows(built)
    # Analysed after the restore, as after generating: the planner has its statistics.
    assert _statistics(restored) == _statistics(built) > 0
    # 250 units at this scale, each an owner with two vehicles and two applications.
    assert _rows(restored).startswith("rows: 500 vehicles, 500 applications, 1,500 clearance")
