"""An open page that loses its live stream catches up when the stream comes back.

Events pushed while a page's socket is away (a server restart closes it with 1012, a Redis
outage drops it) are not replayed. static/js/live.js reconnects on its own; once the new socket
opens it tells every live fragment to fetch itself afresh (``talaan:resync``), so the page shows
what changed meanwhile instead of staying stale until a reload. A reconnect whose handshake the
server does not answer (seen after the Redis restart here) is given up after 10 s and retried.

Real parts: Chromium, the live uvicorn server, and the test Redis (scripts/with-services),
stopped and started again empty by `redis_outage`.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from tests.browser.conftest import track_live, wait_for_live
from tests.conftest import findings_for, sent_for_clearance

# live.js waits at most ~10 s between attempts; the fragment's fetch follows the reopen.
CATCH_UP_MS = 30_000

SOCKET_STATES = """() => (window.__talaanSockets || []).map(
  s => ["connecting", "open", "closing", "closed"][s.readyState])"""
SOCKET_CLOSED = "() => !(window.__talaanSockets || []).some(s => s.readyState === WebSocket.OPEN)"


@pytest.mark.django_db(transaction=True)
def test_an_open_page_shows_a_change_made_while_its_live_stream_was_away(
    world, new_page, redis_outage
):
    application, requests = sent_for_clearance(world)
    hpg = requests["HPG"]
    clearance_services.clearance_claim(request_id=hpg.pk, officer=world.hpg_officer)

    owner = new_page(user="owner.juan")
    track_live(owner)
    owner.goto(f"/applications/{application.pk}/")
    status = owner.get_by_test_id("clearance-HPG-status")
    expect(status).to_have_text("In review")
    wait_for_live(owner)
    owner.evaluate("window.__watched = true")

    with redis_outage():
        # The server's consumer loses the channel layer and the page's socket goes with it.
        owner.wait_for_function(SOCKET_CLOSED, timeout=CATCH_UP_MS)
        # Committed while the page cannot hear: this push is lost (the broker is down too).
        clearance_services.clearance_decide(
            request_id=hpg.pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.APPROVED,
            remarks="Numbers match.",
            findings=findings_for(hpg),
        )
        expect(status).to_have_text("In review")

    try:
        expect(status).to_have_text("Approved", timeout=CATCH_UP_MS)
    except AssertionError as stale:
        states = owner.evaluate(SOCKET_STATES)
        raise AssertionError(f"{stale}\nThe page's live sockets (oldest first): {states}") from None
    assert owner.evaluate("window.__watched === true"), "the page was reloaded, not updated"
