"""End-to-end fixtures: a live uvicorn server, a Celery worker, Chromium, and a Redis outage.

The server and the worker are subprocesses with this process's environment, pointed at the
test database, so they see what a test commits: mark tests that use them
``@pytest.mark.django_db(transaction=True)``.

The two processes and Chromium start once for the tests in this folder and stop when the last
of them has run (package scope), not at the end of the session. Playwright's sync API leaves
an asyncio loop marked as running in this thread for as long as it is started, and
``async_to_sync`` refuses to run in such a thread: kept alive, it would break every test that
runs after these.

Sharing one server between tests is safe because it keeps nothing between requests but
database connections (``DATABASE_CONN_MAX_AGE=0`` closes them), and each transactional test's
flush empties the tables under it. The exception is Django's ContentType cache: the flush
recreates content types with new ids, which the test process forgets but the server does not.
The admin's change history reads it (LogEntry), nothing else the server does today: a test that
edits through the admin should start a server of its own (``_running`` does the work).
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import global_settings, settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from redis.exceptions import ConnectionError as RedisConnectionError

from talaan.celery import app as celery_app
from tests.conftest import CREDENTIAL_SIGNING_KEY_PEM
from tests.live import answers_ok, free_port, log_tail

REPO = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
SCREENSHOTS = REPO / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The password tests.factories.UserFactory gives every user.
PASSWORD = "pw-for-tests-only"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: end-to-end test with Chromium, a live server and a Celery worker"
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser``, so `-m browser` / `-m "not browser"` work."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the test's outcome for `new_page`, and show the server's log when a test fails."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
        if report.failed:
            funcargs = getattr(item, "funcargs", {}).values()
            # A process shows up once per fixture that returns it: show each log once.
            processes = {id(value): value for value in funcargs if isinstance(value, LiveProcess)}
            for process in processes.values():
                report.sections.append((f"{process.what} log, last lines", process.log_tail()))
    return report


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it is true; fail saying ``what`` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {timeout:g} s for: {what}")
        time.sleep(0.1)


@dataclass
class LiveProcess:
    """A subprocess the tests talk to, and its log."""

    what: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log_path, lines)

    def check_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"The {self.what} has exited (status {self.process.returncode}). "
                f"Its log:\n{self.log_tail()}",
                pytrace=False,
            )


@dataclass
class LiveServer(LiveProcess):
    url: str


@dataclass
class CeleryWorker(LiveProcess):
    nodename: str

    def wait_until_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until the worker answers a ping through the broker (after an outage, say)."""
        self.check_running()
        wait_until(
            lambda: _worker_answers(self.nodename),
            timeout=timeout,
            what=f"the Celery worker to answer a ping. Its log:\n{self.log_tail()}",
        )


def _worker_answers(nodename: str) -> bool:
    try:
        return bool(celery_app.control.ping(destination=[nodename], timeout=0.25, limit=1))
    except (OperationalError, RedisConnectionError):  # no broker (yet), or a stale connection
        return False


@contextmanager
def _running(
    what: str,
    command: list[str],
    *,
    env: dict[str, str],
    log_path: Path,
    ready: Callable[[], bool],
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends: wait until ``ready()``; then terminate (or kill)."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not ready():
            if process.poll() is not None:
                pytest.fail(
                    f"The {what} exited with status {process.returncode} before it was ready. "
                    f"Its log ({log_path}):\n{log_tail(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The {what} was not ready after {STARTUP_TIMEOUT:g} s. "
                    f"Its log ({log_path}):\n{log_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class LiveEnv:
    """The environment the live server and worker run with, and the folders they write to."""

    environ: dict[str, str]
    var_dir: Path
    mail_dir: Path
    log_dir: Path

    def sent_mail(self) -> list[str]:
        """Every message the server and worker have sent (file-based backend), newest first:
        the mail directory is the package's, so a test looking for the message it caused (a
        sale invitation to a demo address another test also invited) finds its own first."""
        files = sorted(self.mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime_ns)
        return [path.read_text() for path in reversed(files)]


@pytest.fixture(scope="package")
def live_env(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> LiveEnv:
    """Production settings (DEBUG off) over plain HTTP on loopback, on the test database."""
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        pytest.fail(
            "Browser tests need the PostgreSQL test database (DATABASE_URL is not set): run "
            "them through `make test` or scripts/with-services.",
            pytrace=False,
        )
    root = tmp_path_factory.mktemp("live")
    env = LiveEnv(
        # The server keeps Django's async-safety check; see `browser`.
        environ={
            name: value
            for name, value in os.environ.items()
            if name not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST"}
        },
        var_dir=root / "var",
        mail_dir=root / "mail",
        log_dir=root / "logs",
    )
    for folder in (env.var_dir, env.mail_dir, env.log_dir):
        folder.mkdir()
    env.environ.update(
        DATABASE_URL=urlsplit(database_url)
        ._replace(path=f"/{connection.settings_dict['NAME']}")
        .geturl(),
        DATABASE_CONN_MAX_AGE="0",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        # With DEBUG off WhiteNoise serves STATIC_ROOT (VAR_DIR/static) only: collect into it.
        TALAAN_VAR_DIR=str(env.var_dir),
        # Files a test writes through services must be the ones the server serves.
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(env.mail_dir),
        PYTHONUNBUFFERED="1",
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=REPO,
        env=env.environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if collected.returncode:
        pytest.fail(f"collectstatic failed:\n{collected.stdout}{collected.stderr}", pytrace=False)
    return env


@pytest.fixture(scope="package")
def _live_server_process(live_env: LiveEnv) -> Iterator[LiveServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = live_env.log_dir / "server.log"
    command = [sys.executable, "-m", "uvicorn", "talaan.asgi:application"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with _running(
        "live server (uvicorn)",
        command,
        env={
            **live_env.environ,
            "CSRF_TRUSTED_ORIGINS": url,
            # The CR credentials name this server as their issuer, signed with the tests' key.
            "CREDENTIAL_ISSUER_URL": url,
            "CREDENTIAL_SIGNING_KEY": CREDENTIAL_SIGNING_KEY_PEM,
        },
        log_path=log_path,
        ready=lambda: answers_ok(f"{url}/healthz"),
    ) as process:
        yield LiveServer("live server (uvicorn)", process, log_path, url)


@pytest.fixture
def live_server(_live_server_process: LiveServer) -> LiveServer:
    """`uvicorn talaan.asgi:application` on 127.0.0.1, shared by this folder's tests; `.url`."""
    _live_server_process.check_running()
    return _live_server_process


@pytest.fixture(autouse=True)
def _live_server_helper(request: pytest.FixtureRequest) -> None:
    """Replaces pytest-django's helper of this name, which expects its own `live_server`.

    Like it, it gives a test that uses the live server a transactional database.
    """
    if "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")


@pytest.fixture(scope="package")
def _celery_worker_process(live_env: LiveEnv) -> Iterator[CeleryWorker]:
    if not os.environ.get("REDIS_URL"):
        pytest.fail(
            "The Celery worker needs the test Redis (REDIS_URL is not set): run the tests "
            "through `make test` or scripts/with-services.",
            pytrace=False,
        )
    nodename = f"browser-tests-{os.getpid()}@127.0.0.1"
    log_path = live_env.log_dir / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "talaan", "worker", "--pool", "threads"]
    command += ["--concurrency", "4", "--loglevel", "INFO", "--hostname", nodename]
    # No other workers to sync with or watch: skip the second these would add to the start.
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    # Tasks earlier tests queued with no worker running would otherwise run now, against rows
    # those tests' rollback or flush has removed.
    celery_app.control.purge()
    with _running(
        "Celery worker",
        command,
        env=live_env.environ,
        log_path=log_path,
        ready=lambda: _worker_answers(nodename),
    ) as process:
        yield CeleryWorker("Celery worker", process, log_path, nodename)


@pytest.fixture
def celery_worker(_celery_worker_process: CeleryWorker) -> CeleryWorker:
    """`celery -A talaan worker --pool threads --concurrency 4`, shared by this folder's tests.

    Ready when the test starts: it has answered a ping through the broker.
    """
    _celery_worker_process.wait_until_ready()
    return _celery_worker_process


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `scripts/system-deps chromium` "
            "(`make test` does).",
            pytrace=False,
        )
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs its asyncio loop in this thread and leaves it marked as
        # running between calls, so Django's async-safety check would refuse every ORM call
        # a test, a fixture or pytest-django's flush makes meanwhile. The check guards against
        # sharing a connection with coroutines; here Playwright and the ORM only take turns.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    # No outbound network: nothing but loopback resolves.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                ],
            )
            # Assertions wait longer than the 5 s default: the whole suite may share the CPU.
            expect.set_options(timeout=10_000)
            yield chromium
            chromium.close()
        finally:
            playwright.stop()


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., Page]]:
    """A factory of pages on the live server, each in a browser context (cookies) of its own.

    ``new_page(user=None)`` returns a page that is signed in through the login form when
    ``user`` (a username) is given. When the test fails, its open pages are saved to
    screenshots/failures/.
    """
    contexts: list[BrowserContext] = []

    def open_page(user: str | None = None) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": 1280, "height": 800},
            locale="en-PH",
            timezone_id="Asia/Manila",
            reduced_motion="reduce",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if user is not None:
            sign_in(page, user)
        return page

    yield open_page
    report = request.node.stash.get(_CALL_REPORT, None)
    name = re.sub(r"[^\w.-]+", "-", request.node.nodeid).strip("-")
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            for tab, page in enumerate(context.pages):
                with suppress(PlaywrightError):
                    screenshot(page, f"failures/{name}-{number}-{tab}")
        context.close()


@functools.cache
def _server_password_hash() -> str:
    """PASSWORD hashed as the server hashes it; computed once, as it is slow by design."""
    server_settings = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    hashers = getattr(server_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    hasher = import_string(hashers[0])()
    return hasher.encode(PASSWORD, hasher.salt())


def enable_browser_login(*usernames: str) -> None:
    """Let these users sign in to the live server with PASSWORD.

    Tests hash passwords with MD5 for speed (tests/conftest.py), a hasher the server, running
    with the project's settings, does not accept: store the same password under its hasher.
    """
    updated = (
        get_user_model()
        .objects.filter(username__in=usernames)
        .update(password=_server_password_hash())
    )
    assert updated == len(set(usernames)), f"Not all of these users exist: {usernames}"


def sign_in(page: Page, username: str) -> None:
    """Sign in through the login form, as a person would; fail if the server refuses.

    ``page`` comes from `new_page`, whose contexts know the live server's address.
    """
    enable_browser_login(username)
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_response(
        lambda response: (
            response.request.method == "POST" and urlsplit(response.url).path == "/login/"
        )
    ) as answer:
        page.locator('form:has(#id_password) [type="submit"]').click()
    if answer.value.status != 302:
        refused = "did not match" in answer.value.text()
        raise AssertionError(
            f"Could not sign in as {username!r}: the login form answered "
            f"{answer.value.status}{' (username and password did not match)' if refused else ''}."
        )
    page.wait_for_url(lambda url: urlsplit(url).path != "/login/")


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page to screenshots/<name>.png (git-ignored) and return its path."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    return path


def _redis_answers(port: int) -> bool:
    ping = subprocess.run(
        ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=10
    )
    return ping.returncode == 0 and ping.stdout.strip() == "PONG"


def _process_gone(pid: int) -> bool:
    """Whether ``pid`` has exited; a zombie counts (the daemon's parent may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


@contextmanager
def _redis_stopped(services_dir: Path, port: int) -> Iterator[None]:
    pid = int((services_dir / "redis.pid").read_text())
    subprocess.run(
        ["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=10
    )
    wait_until(lambda: _process_gone(pid), timeout=10, what=f"Redis (pid {pid}) to stop")
    try:
        yield
    finally:
        # The same arguments scripts/with-services starts it with.
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "yes"]
        command += ["--pidfile", str(services_dir / "redis.pid"), "--dir", str(services_dir)]
        command += ["--logfile", str(services_dir / "redis.log")]
        subprocess.run(command, check=True, timeout=10)
        wait_until(
            lambda: _redis_answers(port),
            timeout=10,
            what=f"Redis to answer again. Its log:\n{log_tail(services_dir / 'redis.log')}",
        )


@pytest.fixture
def redis_outage() -> Callable[[], AbstractContextManager[None]]:
    """``with redis_outage(): ...`` stops the test Redis for the block, then restarts it.

    Redis comes back empty, as after a crash. A `celery_worker` reconnects on its own within
    seconds; call its ``wait_until_ready()`` before relying on it again.
    """
    services_dir = os.environ.get("TALAAN_SERVICES_DIR")
    port = os.environ.get("TALAAN_REDIS_PORT")
    if not services_dir or not port:
        pytest.fail(
            "redis_outage stops the Redis that scripts/with-services starts, and "
            "TALAAN_SERVICES_DIR / TALAAN_REDIS_PORT are not set: run the tests through "
            "`make test` or scripts/with-services.",
            pytrace=False,
        )
    if not shutil.which("redis-cli") or not shutil.which("redis-server"):
        pytest.fail("redis_outage needs redis-cli and redis-server on PATH.", pytrace=False)
    return functools.partial(_redis_stopped, Path(services_dir), int(port))


# Keeps every WebSocket a page opens in `window.__talaanSockets`, so a test can wait until the
# page's live stream is open: an event the server pushes before then is simply not seen.
_TRACK_SOCKETS = """
(() => {
  if (window.__talaanSockets) return;
  const Native = window.WebSocket;
  const sockets = [];
  window.__talaanSockets = sockets;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  };
})();
"""


def track_live(page: Page) -> None:
    """Record the live websockets of the documents ``page`` loads from now on.

    Call it before the first navigation that `wait_for_live` should follow.
    """
    page.add_init_script(_TRACK_SOCKETS)


def wait_for_live(page: Page) -> None:
    """Wait until the page's live stream (static/js/live.js) is open (see `track_live`).

    The server joins the user's group before it accepts the socket, so from then on every
    event for this user reaches the page.
    """
    page.wait_for_function(
        "() => (window.__talaanSockets || []).some(s => s.readyState === WebSocket.OPEN)"
    )
