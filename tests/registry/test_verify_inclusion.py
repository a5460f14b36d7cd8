"""The public verify page says truthfully whether each record is in the ledger's log yet."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse

from ledger import log
from tests.conftest import filed_application


def test_records_awaiting_inclusion_say_so_until_the_sequencer_has_run(client, world, settings):
    cache.clear()
    settings.LEDGER_SEQUENCER = "sequencer"
    application = filed_application(world)
    client.force_login(world.lto_admin)
    client.post(reverse("application-review", args=[application.pk]))
    client.post(reverse("application-send", args=[application.pk]))
    client.logout()

    page = client.get(reverse("verify", args=[application.reference])).content.decode()
    assert "These records match the ledger." in page
    assert "recorded, awaiting inclusion in the log" in page
    assert "awaiting inclusion in the ledger's public log" in page

    log.integrate()
    page = client.get(reverse("verify", args=[application.reference])).content.decode()
    assert "awaiting inclusion" not in page
    assert "included in checkpoint" in page
