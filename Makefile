# Talaan: the verbs people use. `make run` and `make test` work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install messages run test bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt ".[dev]"
	touch $(STAMP)

install: $(STAMP) messages

# The Filipino catalogues (locale/, <app>/locale/) compiled to .mo: build output, not committed.
messages: $(STAMP)
	scripts/system-deps --only gettext
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity 0

# The embedded default: SQLite, embedded ledger, in-memory channel layer, in-process tasks.
# PORT picks the port (checked before anything is built); LOG_LEVEL=INFO shows every task.
PORT ?= 8000
LOG_LEVEL ?= WARNING
run: export DEBUG := 1
run: export LOG_LEVEL := $(LOG_LEVEL)
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	@$(BIN)/python scripts/port-free 127.0.0.1 "$(PORT)"
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py load_demo
	@echo "Talaan is at $(SITE_URL)  (Ctrl-C to stop)"
	$(BIN)/uvicorn talaan.asgi:application --host 127.0.0.1 --port "$(PORT)"

# Lint first, then the whole suite on throwaway PostgreSQL and Redis, started and stopped here,
# spread over the CPUs by pytest-xdist (tests/worker_isolation.py keeps the workers apart).
# PYTEST_ARGS comes after, so it can override: PYTEST_ARGS="-n 0 tests/..." runs serially.
test: export DEBUG := 0
test: export SECRET_KEY := test-only-secret-key-for-the-throwaway-test-run-0123456789
test: lint node_modules/.installed
	scripts/system-deps chromium golang
	scripts/with-services $(BIN)/python -m pytest -n auto --durations=25 $(PYTEST_ARGS)

# What the browser tests inject into pages (axe-core), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	scripts/system-deps npm
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

BENCH_SCALE ?= 1
bench: export DEBUG := 0
bench: export SECRET_KEY := bench-only-secret-key-for-the-throwaway-bench-run-0123456789
bench: export PG_DURABLE := 1
bench: install
	scripts/system-deps
	$(BIN)/python bench/run_all.py --scale "$(BENCH_SCALE)" --decide-args "$(BENCH_ARGS)"

# Style, the layers of DESIGN.md (import-linter), types (mypy with django-stubs), migrations.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DEBUG=1 $(BIN)/mypy
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var build *.egg-info node_modules
