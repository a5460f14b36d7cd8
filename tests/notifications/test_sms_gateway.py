"""The HTTP SMS gateway backend, against a loopback server standing in for the gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from notifications import services
from notifications.models import Delivery
from notifications.selectors import ChannelChoice
from notifications.sms import HttpGatewayBackend, SmsError
from notifications.tasks import redeliver_pending
from registry.events import REGISTRATION_APPROVED
from registry.models import OwnerProfile


class FakeGateway(HTTPServer):
    """A stand-in for a real SMS gateway: records each request, answers with ``status``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.requests: list[dict] = []
        self.status = 202

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/messages"


class _GatewayHandler(BaseHTTPRequestHandler):
    server: FakeGateway

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        answer = json.dumps({"accepted": self.server.status < 400}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway(settings) -> Iterator[FakeGateway]:
    server = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_TOKEN = "gateway-token-for-tests"
    settings.SMS_SENDER = "TALAAN"
    settings.SMS_GATEWAY_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_gateway_backend_posts_json_with_the_bearer_token(gateway):
    HttpGatewayBackend().send(to="+639171234567", text="Your registration is approved.")

    [request] = gateway.requests
    assert request["path"] == "/v1/messages"
    assert request["authorization"] == "Bearer gateway-token-for-tests"
    assert request["json"] == {
        "to": "+639171234567",
        "from": "TALAAN",
        "text": "Your registration is approved.",
    }


def test_a_gateway_error_answer_raises_an_sms_error(gateway):
    gateway.status = 503

    with pytest.raises(SmsError, match="503"):
        HttpGatewayBackend().send(to="+639171234567", text="hello")


def test_an_unreachable_gateway_raises_an_sms_error(gateway):
    backend = HttpGatewayBackend(url=gateway.url)
    gateway.shutdown()
    gateway.server_close()

    with pytest.raises(SmsError, match="unreachable"):
        backend.send(to="+639171234567", text="hello")


def test_a_failed_sms_is_recorded_and_the_sweep_sends_it_once_the_gateway_is_back(
    world, gateway, eager_celery, django_capture_on_commit_callbacks
):
    OwnerProfile.objects.create(user=world.owner, mobile_number="09171234567")
    services.preferences_update(
        user=world.owner,
        choices={REGISTRATION_APPROVED: ChannelChoice(email=False, sms=True)},
    )
    gateway.status = 503

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[world.owner],
            event=REGISTRATION_APPROVED,
            title="Registration approved",
            body="",
            link="/applications/1/",
        )

    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED
    assert delivery.attempts >= 1 and "503" in delivery.last_error

    gateway.status = 202
    Delivery.objects.update(updated_at="2000-01-01T00:00:00Z")
    assert redeliver_pending() == 1
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT
    assert gateway.requests[-1]["json"]["to"] == "+639171234567"
