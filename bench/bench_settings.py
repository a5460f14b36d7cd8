"""The project's settings with the bench URLs on top (bench/status_lookup.py's server only)."""

from talaan.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
