"""The owner reads their application's history in plain words, with one mark saying it is
verified on the ledger; the ledger's technical facts are one click away (issue 19, item 2)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import sent_for_clearance

# What a citizen should not have to read on their own pages (the technical details keep them).
JARGON = ("embedded", "tx ", "entry #", "Filesystem", "application/pdf", "→", "in_review")


def _visible_without_details(html: str) -> str:
    """The page's text as shown before anything is opened: ``<details>`` keep only their
    summary, and tags, scripts and attributes are dropped."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    html = re.sub(
        r"(<details[^>]*>\s*<summary[^>]*>.*?</summary>).*?</details>", r"\1", html, flags=re.S
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def started_hpg_check(world):
    application, requests = sent_for_clearance(world)
    from clearance import services

    services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    return application


def test_the_owner_reads_the_history_in_plain_words_with_a_verified_mark(
    client, world, started_hpg_check
):
    client.force_login(world.owner)
    url = reverse("application-detail", args=[started_hpg_check.pk])
    client.get(url)  # the receipts are checked on a first read, then shown checked

    html = client.get(url).content.decode()
    text = _visible_without_details(html)

    assert "HPG check started by PNP-HPG" in text
    assert "Sent to Bayanihan Mutual for the Insurance check" in text
    assert "Filed with the LTO" in text and "The LTO started reviewing it" in text
    assert "verified on the ledger" in text
    for word in JARGON:
        assert word not in text, f"{word!r} is shown to the owner"


def test_the_technical_details_are_one_click_away(client, world, started_hpg_check):
    client.force_login(world.owner)
    html = client.get(reverse("application-detail", args=[started_hpg_check.pk])).content.decode()
    change = started_hpg_check.status_changes.last()

    receipt = re.search(r'<details class="receipt">.*?</details>', html, re.S)
    assert receipt is not None
    details = re.findall(r'<details class="receipt">.*?</details>', html, re.S)
    assert any(change.ledger_tx_id in d and "entry #" in d for d in details)


def test_lto_staff_and_officers_read_the_same_plain_history_first(client, world, started_hpg_check):
    for user in (world.lto_admin, world.hpg_officer):
        client.force_login(user)
        html = client.get(
            reverse("application-detail", args=[started_hpg_check.pk])
        ).content.decode()
        assert "HPG check started by PNP-HPG" in _visible_without_details(html)
    request = started_hpg_check.clearance_requests.get(kind="HPG")
    html = client.get(reverse("clearance-detail", args=[request.pk])).content.decode()
    assert "HPG check started by PNP-HPG" in _visible_without_details(html)


def test_the_owner_reads_a_document_without_its_file_type_or_store(
    client, world, started_hpg_check
):
    client.force_login(world.owner)
    document = started_hpg_check.documents.first()
    html = client.get(
        reverse("document-detail", args=[started_hpg_check.pk, document.pk])
    ).content.decode()
    text = _visible_without_details(html)

    assert "Integrity verified" in text
    for word in ("application/pdf", "Filesystem", "embedded", "entry #"):
        assert word not in text, f"{word!r} is shown to the owner"
    assert "application/pdf" in html and document.sha256 in html  # one click away
