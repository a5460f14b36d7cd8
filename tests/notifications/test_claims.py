"""Claim, commit, then send: no transaction or row lock is open during a delivery's network
call, a sender that dies mid-send loses nothing, and within a claim's lease nothing is sent
twice.

Real parts: PostgreSQL (a second connection probes the delivery row while the send is in
progress), Redis as the broker, Celery worker processes (killed with SIGKILL), Django's SMTP
backend, the SMS gateway backend and the webhook sender. Stand-ins: the receivers are
loopback servers started here (an SMTP server that accepts everything, and an HTTP endpoint
standing in for an integrator's webhook receiver or an SMS gateway); nothing leaves the
machine.
"""

from __future__ import annotations

import os
import re
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from notifications import services, webhooks
from notifications.models import Delivery, WebhookDelivery, WebhookEvent
from notifications.selectors import ChannelChoice
from notifications.tasks import deliver_due_webhooks, redeliver_pending
from registry.events import REGISTRATION_APPROVED
from registry.models import OwnerProfile
from talaan.celery import app as celery_app
from tests.live import log_tail

REPO = Path(__file__).resolve().parents[2]
# Long enough for a kill and a second worker's sweep to happen inside it on a busy machine.
LEASE_SECONDS = 8
WAIT = 30.0


def wait_until(condition: Callable[[], object], *, timeout: float = WAIT, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {timeout:g} s for: {what}")
        time.sleep(0.05)


# The probe: what another database session sees while the send is in progress ------------


@dataclass
class Probe:
    """Run from the receiver's thread while the sender waits for the answer."""

    sender: BaseDatabaseWrapper
    table: str
    row_id: int = 0
    seen: list[dict] = field(default_factory=list)

    def __call__(self) -> None:
        try:
            self.seen.append(self._look())
        except Exception as exc:  # shown by the test's assertion, not lost in this thread
            self.seen.append({"error": repr(exc)})

    def _look(self) -> dict:
        pid = self.sender.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                # NOWAIT raises at once if any session holds a lock on the row.
                cursor.execute(
                    f"SELECT claimed_by, claimed_until > now() FROM {self.table} "
                    "WHERE id = %s FOR UPDATE NOWAIT",
                    [self.row_id],
                )
                claimed_by, leased = cursor.fetchone()
                cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid])
                [session_state] = cursor.fetchone()
        finally:
            other.close()
        return {
            "in_atomic_block": self.sender.in_atomic_block,
            "claimed_by": claimed_by,
            "leased": leased,
            "session_state": session_state,
        }


def assert_sent_with_nothing_held(probe: Probe) -> None:
    [seen] = probe.seen
    assert "error" not in seen, seen
    assert seen["in_atomic_block"] is False
    # The sender's own PostgreSQL session has no transaction open ("idle in transaction"
    # would mean one is), and the row's claim was committed: another session sees it.
    assert seen["session_state"] == "idle"
    assert seen["claimed_by"] and seen["leased"] is True


# Loopback receivers ------------------------------------------------------------------------


@dataclass
class Receiver:
    """A loopback HTTP endpoint (webhook receiver or SMS gateway) that records each request.

    ``holds`` says what to do with the next requests: ``"unread"`` takes the connection and
    never reads it (the sender is past its claim, nothing has arrived), ``"unanswered"`` reads
    and records the request but does not answer (it has arrived, no outcome is back).
    """

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    on_request: Callable[[], None] | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def handle(self) -> None:
            hold = state.holds.pop(0) if state.holds else ""
            if hold == "unread":
                state.holding.set()
                state.release.wait(WAIT)
                return
            self.hold = hold
            with suppress(OSError):  # the sender may be dead by the time this answers
                super().handle()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.on_request is not None:
                state.on_request()
            state.requests.append({"headers": dict(self.headers), "body": body})
            if self.hold == "unanswered":
                state.holding.set()
                state.release.wait(WAIT)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/in"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_receiver(on_message: Callable[[], None]) -> Iterator[tuple[int, list[bytes]]]:
    """An SMTP server on loopback that accepts every message (a stand-in for the relay)."""
    messages: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 stand-in ESMTP\r\n")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb in {b"EHLO", b"HELO"}:
                    self.wfile.write(b"250 stand-in\r\n")
                elif verb == b"DATA":
                    self.wfile.write(b"354 go ahead\r\n")
                    lines = []
                    while (data := self.rfile.readline()) not in {b".\r\n", b""}:
                        lines.append(data)
                    on_message()
                    messages.append(b"".join(lines))
                    self.wfile.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], messages
    finally:
        server.shutdown()
        server.server_close()


# No lock, no transaction during the network call -------------------------------------------


def owner_wanting(world, *, email: bool, sms: bool) -> None:
    OwnerProfile.objects.create(user=world.owner, mobile_number="09171234567")
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_APPROVED: ChannelChoice(email=email, sms=sms)},
    )


def notify_owner(world) -> Delivery:
    with transaction.atomic():
        services.notify(
            recipients=[world.owner],
            event=REGISTRATION_APPROVED,
            title="Registration approved",
            body="",
            link="/applications/1/",
        )
    return Delivery.objects.get()


@pytest.fixture
def sender_connection() -> BaseDatabaseWrapper:
    sender = connections["default"]
    sender.ensure_connection()
    return sender


@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_posted_with_no_transaction_open_and_no_row_locked(
    world, settings, sender_connection, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    probe = Probe(sender_connection, WebhookDelivery._meta.db_table)
    with http_receiver() as receiver:
        receiver.on_request = probe
        webhooks.subscribe(
            user=world.hpg_admin,
            organisation_id=world.hpg.pk,
            url=receiver.url,
            events=[WebhookEvent.CLEARANCE_REQUESTED],
        )
        # Nothing is queued after commit: the test sends it itself, as the sweep would.
        monkeypatch.setattr(webhooks, "enqueue", lambda ids: None)
        with transaction.atomic():
            [delivery] = webhooks.emit(
                event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
            )
        probe.row_id = delivery.pk

        assert webhooks.deliver(delivery_id=delivery.pk) is True

    assert_sent_with_nothing_held(probe)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT
    assert (delivery.claimed_by, delivery.claimed_until) == ("", None)


@pytest.mark.django_db(transaction=True)
def test_a_claim_taken_late_in_a_long_sweep_still_lasts_a_full_lease(
    world, settings, sender_connection, monkeypatch
):
    # A sweep passes the ``now`` it started with to every delivery it sends; after many slow
    # receivers that clock is far behind, and a lease counted from it would already be over.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    probe = Probe(sender_connection, WebhookDelivery._meta.db_table)
    with http_receiver() as receiver:
        receiver.on_request = probe
        webhooks.subscribe(
            user=world.hpg_admin,
            organisation_id=world.hpg.pk,
            url=receiver.url,
            events=[WebhookEvent.CLEARANCE_REQUESTED],
        )
        monkeypatch.setattr(webhooks, "enqueue", lambda ids: None)
        with transaction.atomic():
            [delivery] = webhooks.emit(
                event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
            )
        sweep_started = timezone.now() - timedelta(hours=1)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=sweep_started)
        probe.row_id = delivery.pk

        assert webhooks.deliver(delivery_id=delivery.pk, now=sweep_started) is True

    assert_sent_with_nothing_held(probe)  # "leased": the claim runs past the real now


@pytest.mark.django_db(transaction=True)
def test_an_sms_goes_to_the_gateway_with_no_transaction_open_and_no_row_locked(
    world, settings, sender_connection, monkeypatch
):
    owner_wanting(world, email=False, sms=True)
    probe = Probe(sender_connection, Delivery._meta.db_table)
    with http_receiver() as gateway:
        gateway.on_request = probe
        settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
        settings.SMS_GATEWAY_URL = gateway.url
        monkeypatch.setattr(services, "_enqueue_delivery", lambda ids: None)
        delivery = notify_owner(world)
        probe.row_id = delivery.pk

        assert services.delivery_send(delivery_id=delivery.pk) is True

    assert_sent_with_nothing_held(probe)
    assert gateway.requests
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT
    assert (delivery.claimed_by, delivery.claimed_until) == ("", None)


@pytest.mark.django_db(transaction=True)
def test_an_email_goes_to_the_smtp_server_with_no_transaction_open_and_no_row_locked(
    world, settings, sender_connection, monkeypatch
):
    owner_wanting(world, email=True, sms=False)
    probe = Probe(sender_connection, Delivery._meta.db_table)
    with smtp_receiver(probe) as (port, messages):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        monkeypatch.setattr(services, "_enqueue_delivery", lambda ids: None)
        delivery = notify_owner(world)
        probe.row_id = delivery.pk

        assert services.delivery_send(delivery_id=delivery.pk) is True

    assert_sent_with_nothing_held(probe)
    [message] = messages
    assert b"Registration approved" in message
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT


# Workers killed mid-send -------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    nodename: str
    log_path: Path

    def answers(self) -> bool:
        try:
            return bool(celery_app.control.ping(destination=[self.nodename], timeout=0.25, limit=1))
        except (OperationalError, RedisConnectionError):
            return False

    def task_result(self, task_id: str) -> str | None:
        """What the worker logged as the task's return value, once it has succeeded."""
        found = re.search(
            rf"\[{re.escape(task_id)}\] succeeded in [\d.]+s: (.*)", log_tail(self.log_path, 400)
        )
        return found.group(1) if found else None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT)


@pytest.fixture
def start_worker(tmp_path, settings) -> Iterator[Callable[..., Worker]]:
    """Start real Celery workers (threads pool) on the test database; stop them at the end."""
    database_url = os.environ.get("DATABASE_URL")
    if not database_url or not os.environ.get("REDIS_URL"):
        pytest.fail("Needs PostgreSQL and Redis: run through scripts/with-services.")
    settings.DELIVERY_LEASE_SECONDS = LEASE_SECONDS
    environ = {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}
    environ.update(
        DATABASE_URL=urlsplit(database_url)
        ._replace(path=f"/{connections['default'].settings_dict['NAME']}")
        .geturl(),
        DATABASE_CONN_MAX_AGE="0",
        DEBUG="0",
        DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
        WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SMS_BACKEND="notifications.sms.HttpGatewayBackend",
        SMS_GATEWAY_TIMEOUT="20",
        PYTHONUNBUFFERED="1",
    )
    # Tasks earlier tests queued with no worker running would otherwise run now.
    celery_app.control.purge()
    started: list[Worker] = []

    def start(name: str, *, queue: str = "celery", **env: str) -> Worker:
        nodename = f"{name}-{os.getpid()}@127.0.0.1"
        log_path = tmp_path / f"{name}.log"
        command = [sys.executable, "-m", "celery", "-A", "talaan", "worker", "--pool", "threads"]
        command += ["--concurrency", "1", "--loglevel", "INFO", "--hostname", nodename]
        command += ["--queues", queue, "--without-mingle", "--without-gossip"]
        command += ["--without-heartbeat"]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        worker = Worker(process, nodename, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.terminate()
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


def wait_ready(*workers: Worker) -> None:
    for worker in workers:
        wait_until(
            lambda w=worker: w.process.poll() is None and w.answers(),
            what=f"{worker.nodename} to answer a ping. Its log:\n{log_tail(worker.log_path)}",
        )


def run_sweep(worker: Worker, task, expected: str) -> None:
    task_id = task.apply_async(queue="sweeps").id
    wait_until(
        lambda: worker.task_result(task_id) is not None,
        what=f"the sweep on {worker.nodename}. Its log:\n{log_tail(worker.log_path)}",
    )
    assert worker.task_result(task_id) == expected


def within_lease(claimed_until: datetime) -> None:
    assert timezone.now() < claimed_until, (
        f"The checks took longer than the {LEASE_SECONDS} s lease: raise LEASE_SECONDS."
    )


@dataclass
class Channel:
    """How one kind of delivery is made, swept and read back in the kill tests."""

    model: type[Delivery] | type[WebhookDelivery]
    sweep: object
    start: Callable[..., int]
    send: Callable[[int], bool]
    is_sent: Callable[[Delivery | WebhookDelivery], bool]


def start_webhook(world, receiver: Receiver) -> int:
    webhooks.subscribe(
        user=world.hpg_admin,
        organisation_id=world.hpg.pk,
        url=receiver.url,
        events=[WebhookEvent.CLEARANCE_REQUESTED],
    )
    with transaction.atomic():  # queued to the broker on commit, for the first worker
        [delivery] = webhooks.emit(
            event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
        )
    return delivery.pk


def start_sms(world, receiver: Receiver) -> int:
    owner_wanting(world, email=False, sms=True)
    return notify_owner(world).pk


CHANNELS = {
    "webhook": Channel(
        model=WebhookDelivery,
        sweep=deliver_due_webhooks,
        start=start_webhook,
        send=lambda pk: webhooks.deliver(delivery_id=pk),
        is_sent=lambda row: row.status == WebhookDelivery.Status.SENT,
    ),
    "sms": Channel(
        model=Delivery,
        sweep=redeliver_pending,
        start=start_sms,
        send=lambda pk: services.delivery_send(delivery_id=pk),
        is_sent=lambda row: row.state == Delivery.State.SENT,
    ),
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("channel_name", CHANNELS)
@pytest.mark.parametrize(
    ("hold", "received_before_the_lease_ends"),
    [
        # Killed after its claim committed and before the request reached the receiver.
        ("unread", 0),
        # Killed after the receiver got the request and before the outcome was recorded.
        ("unanswered", 1),
    ],
)
def test_a_worker_killed_mid_send_loses_nothing_and_nothing_is_resent_within_its_lease(
    world, start_worker, settings, channel_name, hold, received_before_the_lease_ends
):
    channel = CHANNELS[channel_name]
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with http_receiver() as receiver:
        receiver.holds.append(hold)
        first = start_worker("first", SMS_GATEWAY_URL=receiver.url)
        # The second worker runs only the sweeps (its own queue), so the first worker is the
        # one that takes the delivery's task.
        second = start_worker("second", queue="sweeps", SMS_GATEWAY_URL=receiver.url)
        wait_ready(first, second)
        # This process sends to the same gateway as the workers when the test sends itself.
        settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
        settings.SMS_GATEWAY_URL = receiver.url

        # Given a delivery the first worker has claimed and is sending when it is killed
        pk = channel.start(world, receiver)
        assert receiver.holding.wait(WAIT), log_tail(first.log_path)
        first.kill()
        receiver.release.set()
        row = channel.model.objects.get(pk=pk)
        assert f":{first.process.pid}:" in row.claimed_by
        assert row.claimed_until is not None and not channel.is_sent(row)
        assert row.attempts == 1

        # When the other worker's sweep, and a sender here, run within the claim's lease
        run_sweep(second, channel.sweep, "0")
        assert channel.send(pk) is True  # nothing to do: someone holds the claim

        # Then nothing more is sent
        assert len(receiver.requests) == received_before_the_lease_ends
        within_lease(row.claimed_until)

        # And once the lease has passed, the sweep sends it, exactly once more
        wait_until(lambda: timezone.now() > row.claimed_until, what="the lease to pass")
        run_sweep(second, channel.sweep, "1")
        row.refresh_from_db()
        assert channel.is_sent(row)
        assert (row.attempts, row.claimed_by, row.claimed_until) == (2, "", None)
        assert len(receiver.requests) == received_before_the_lease_ends + 1
        if channel_name == "webhook":
            # A resend carries the same delivery id, which receivers deduplicate on.
            ids = {request["headers"]["Talaan-Delivery"] for request in receiver.requests}
            assert ids == {str(pk)}
