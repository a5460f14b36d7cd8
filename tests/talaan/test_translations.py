"""Every word a page or a message shows is translatable, and every Filipino entry is written.

The pseudo-locale: each msgid of every catalogue in the repository becomes its own msgstr
inside ⟪ ⟫ (tests/talaan/catalogues.py), compiled into a LOCALE_PATHS folder of the test's
own and served as Filipino. While it is active, whatever a template prints through a
variable (``{{ … }}``) comes inside ⟦ ⟧. Then the rule for the visible text of a page (its
text nodes, its <title>, and the attributes people read: title, placeholder, aria-label,
alt, data-label, a button's value) is:

- a letter inside ⟪ ⟫ was translated;
- a letter inside ⟦ ⟧ is data the template was given: names, plates, VINs, references,
  dates, amounts (and whatever Python wrote; the Python side's strings are marked there);
- a word written all in capitals (LTO, HPG, VIN, SMS) reads the same in Filipino;
- any other letter is text the template wrote and never marked for translation: a failure.

A string marked in a template but missing from the catalogues (makemessages not run) fails the
same way, since the pseudo-locale cannot translate it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import django.template.base
import django.template.defaulttags
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.utils import translation
from django.utils.safestring import mark_safe

from notifications.language import language_remember
from tests.browser.test_phone_layout import ANONYMOUS, PUBLIC, ROLES, demo_loaded
from tests.talaan import catalogues

TRANSLATED = ("⟪", "⟫")
DATA = ("⟦", "⟧")
OPENING = {TRANSLATED[0], DATA[0]}
CLOSING = {TRANSLATED[1], DATA[1]}
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-label"}
ACRONYM = re.compile(r"^[A-Z0-9]{2,}$")


def unmarked_words(text: str, depth: int = 0) -> tuple[list[str], int]:
    """The words of ``text`` outside every marker (acronyms aside), and the depth at its end
    (a variable's output or a translation may span several text nodes)."""
    words: list[str] = []
    word = ""
    for char in text:
        if char in OPENING:
            depth += 1
        elif char in CLOSING:
            depth = max(depth - 1, 0)
        if depth == 0 and char.isalpha():
            word += char
            continue
        if word and not ACRONYM.match(word):
            words.append(word)
        word = ""
    if word and not ACRONYM.match(word):
        words.append(word)
    return words, depth


class _VisibleText(HTMLParser):
    """Collects the unmarked words of a page's visible text, each with its text node."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.depth = 0
        self.hidden = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self.hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in {"submit", "button"}
            )
            if read and value and unmarked_words(value)[0]:
                self.found.append(f'<{tag} {name}="{value}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self.hidden = max(self.hidden - 1, 0)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        words, self.depth = unmarked_words(data, self.depth)
        if words:
            self.found.append(" ".join(data.split())[:120])


def unmarked_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.found


# -- the pseudo-locale ---------------------------------------------------------------------


def _data_marked(render):
    def render_marked(value, context):
        # The value is escaped already (render_value_in_context); the marks need no escaping.
        return mark_safe(f"{DATA[0]}{render(value, context)}{DATA[1]}")

    return render_marked


@pytest.fixture(scope="module")
def pseudo_locale(tmp_path_factory) -> Iterator[None]:
    """Filipino served from the pseudo-locale, and every variable's output marked as data."""
    entries = [entry for path in catalogues.catalogues() for entry in catalogues.read(path)]
    folder = catalogues.write_pseudo(entries, tmp_path_factory.mktemp("pseudo-locale"), TRANSLATED)
    original = django.template.base.render_value_in_context
    marked = _data_marked(original)
    django.template.base.render_value_in_context = marked
    django.template.defaulttags.render_value_in_context = marked  # {% firstof %}, {% cycle %}
    with override_settings(LOCALE_PATHS=[folder]):
        try:
            yield
        finally:
            django.template.base.render_value_in_context = original
            django.template.defaulttags.render_value_in_context = original


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[dict[str, list[str]]]:
    """The demo as `make run` loads it, and the addresses of its pages (as the phone layout
    test walks them)."""
    with demo_loaded(django_db_blocker) as urls:
        yield urls


def _filipino_client(role: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fil"
    if role != ANONYMOUS:
        client.force_login(get_user_model().objects.get(username=role))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_shows_only_translated_text_or_data(role, demo, pseudo_locale):
    client = _filipino_client(role)
    problems: dict[str, list[str]] = {}
    opened = 0
    for name, addresses in demo.items():
        if (name in PUBLIC) != (role == ANONYMOUS):
            continue
        for address in addresses[:1]:
            response = client.get(address)
            html = response.get("Content-Type", "").startswith("text/html")
            if response.status_code not in {200, 400} or not html:
                continue  # a page this role may not see, or one that sends it elsewhere
            opened += 1
            assert response["Content-Language"] == "fil"
            if found := unmarked_text(response.content.decode()):
                problems[address] = sorted(set(found))
    assert opened, f"{role} opened no page"
    assert not problems, (
        "Text never marked for translation (mark it in the template; run makemessages):\n"
        + "\n".join(f"{address}: {found}" for address, found in problems.items())
    )


@pytest.mark.django_db
def test_notification_email_and_sms_show_only_translated_text_or_data(
    demo, pseudo_locale, monkeypatch
):
    from notifications import senders
    from notifications.models import Notification

    notification = Notification.objects.exclude(link="").order_by("pk").first()
    assert notification is not None, "the demo sends notifications"
    language_remember(user_id=notification.recipient_id, language="fil")
    texts: list[str] = []
    # No SMS gateway runs here: the text the gateway would get is kept instead.
    monkeypatch.setattr(senders, "send_sms", lambda *, to, text: texts.append(text))

    senders.send_email(notification, "someone@example.com")
    senders.send_text_message(notification, "+639171234567")

    (email,) = mail.outbox
    (html, _mimetype) = email.alternatives[0]
    data = {notification.title, senders.absolute_url(notification.link)}

    def without_data(text: str) -> str:
        for value in data:
            text = text.replace(value, "")
        return text

    assert not unmarked_text(html), unmarked_text(html)
    assert not unmarked_words(email.body)[0], email.body
    assert not unmarked_words(without_data(email.subject))[0], email.subject
    assert texts and not unmarked_words(without_data(texts[0]))[0], texts


@pytest.mark.django_db
def test_the_password_reset_email_shows_only_translated_text_or_data(pseudo_locale, world):
    context = {
        "user": world.owner,
        "protocol": "https",
        "domain": "talaan.example",
        "uid": "MQ",
        "token": "set-password-token",
    }
    with translation.override("fil"):
        subject = render_to_string("registration/password_reset_subject.txt", context)
        body = render_to_string("registration/password_reset_email.html", context)

    assert not unmarked_words(subject)[0], subject
    assert not unmarked_words(body)[0], body


def test_a_text_node_outside_the_markers_is_caught_and_data_is_not():
    page = (
        "<p>⟪Plate⟫ ⟦ABC 1234⟧ LTO</p><td data-label='Status'>⟦x⟧</td>"
        "<p>⟪Owner: <a>⟦Juan⟧</a>⟫</p><script>var a = 1;</script><p>Not marked</p>"
    )
    assert unmarked_text(page) == ['<td data-label="Status">', "Not marked"]


# -- the catalogues are complete -----------------------------------------------------------


def test_every_filipino_catalogue_entry_is_translated_and_not_fuzzy():
    paths = catalogues.catalogues("fil")
    assert paths, "no Filipino catalogue (locale/fil/LC_MESSAGES/django.po)"
    problems = []
    for path in paths:
        for entry in catalogues.read(path):
            where = f"{path.relative_to(catalogues.REPO)}:{entry.line}"
            if "fuzzy" in entry.flags:
                problems.append(f"{where}: fuzzy {entry.msgid[:60]!r}")
            forms = range(2 if entry.msgid_plural else 1)
            if entry.msgid and not all(entry.msgstr.get(form) for form in forms):
                problems.append(f"{where}: empty {entry.msgid[:60]!r}")
    assert not problems, "Write the Filipino of:\n" + "\n".join(problems)


def test_filipino_is_served_from_the_compiled_catalogue(client):
    """The real catalogue is compiled and chosen from Accept-Language (make install)."""
    call_command("compilemessages", "--ignore=.venv", "--ignore=node_modules", verbosity=0)
    with translation.override("fil"):
        assert translation.gettext("My applications") != "My applications"
