"""The project's settings plus a response header with the request's query count (bench only).

bench/scale.py's server runs with these; bench/status_lookup.py keeps bench_settings, so the
rates it compares carry no counting.
"""

from talaan.settings import *  # noqa: F403
from talaan.settings import MIDDLEWARE

# First, so it counts every query the other middleware and the view make.
MIDDLEWARE = ["bench.query_count.QueryCountMiddleware", *MIDDLEWARE]
