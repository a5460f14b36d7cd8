"""The pages carry a government service's identity (issue 19, item 10): the office in the
header, a footer with help and contact, a privacy notice under the Data Privacy Act; buttons
name organisations as people know them; no page repeats an element id."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from django.urls import reverse

from tests.conftest import filed_application


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


def duplicate_ids(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return sorted(name for name, count in parser.ids.items() if count > 1)


def test_the_header_and_footer_name_the_office_from_settings(client, world, settings):
    settings.OFFICE_NAME = "Land Transportation Office — Region IV-A"
    settings.SERVICE_NAME = "Talaan vehicle registry"
    settings.HELP_EMAIL = "tulong@lto.example.ph"
    client.force_login(world.owner)

    page = client.get(reverse("home")).content.decode()

    header = page.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]
    assert "Land Transportation Office — Region IV-A" in header
    assert "Talaan vehicle registry" in header
    footer = page.split('<footer class="sitefoot">', 1)[1].split("</footer>", 1)[0]
    assert 'href="mailto:tulong@lto.example.ph"' in footer
    assert f'href="{reverse("privacy")}">Privacy notice</a>' in footer


def test_the_privacy_notice_follows_the_data_privacy_act_and_names_the_dpo(client, db, settings):
    settings.DPO_NAME = "Atty. Maria Santos"
    settings.DPO_EMAIL = "dpo@lto.example.ph"

    response = client.get(reverse("privacy"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Data Privacy Act of 2012 (Republic Act No. 10173)" in page
    for heading in (
        "What we collect",
        "Why we collect it",
        "Who sees it",
        "How long we keep it",
        "Your rights",
        "Data Protection Officer",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "Atty. Maria Santos" in page and 'href="mailto:dpo@lto.example.ph"' in page
    assert "National Privacy Commission" in page


def test_the_send_button_names_the_organisations_not_their_codes(client, world):
    application = filed_application(world)
    client.force_login(world.lto_admin)
    client.post(reverse("application-review", args=[application.pk]))

    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert "Send to Emission testing, HPG, Insurance</button>" in page
    assert "EMISSION, HPG" not in page


def test_the_lto_application_page_repeats_no_element_id(client, world):
    application = filed_application(world)
    client.force_login(world.lto_admin)
    client.post(reverse("application-review", args=[application.pk]))

    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert duplicate_ids(page) == []
    assert 'id="id_reject_reason"' in page  # the reject form is on the page, with its own ids
