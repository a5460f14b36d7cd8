"""Every page of every demo role at a phone's 360 and 390 px and at a desktop's 1366 px.

At each width the page must not scroll sideways, and every table cell whose text the desktop
shows must show that same text on the phone, whole and inside the screen (issue 19: one rule
used to hide the third column of every table below 600 px). A table header's name must
reach the phone too, as the label its cells carry (their ``data-label``).

The pages come from the app's URL patterns: each named pattern is either a page walked here,
with the demo objects to open it for, or named in NOT_WALKED with the reason. A new pattern
in neither fails `test_every_url_pattern_is_walked_or_said_why_not`, so later pages are
covered too. Each role opens every page built from the demo data; those it may not see
answer 403/404 and are passed over.

Screenshots go to var/screenshots/layout/<role>/ (git-ignored), with a contact sheet per
role of its pages at 360 px beside them. With TALAAN_CONTACT_SHEETS=<folder> the sheets are
written there as well (docs/phone-layout/ holds the committed ones).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image, ImageDraw

from demo.management.commands.load_demo import PEOPLE
from organisations.models import Membership, Organisation
from tests.browser.conftest import PASSWORD, REPO, _server_password_hash
from tests.conftest import delete_world, seed_reference_data

SHOTS = REPO / "var" / "screenshots" / "layout"
DESKTOP = {"width": 1366, "height": 900}
PHONES = ({"width": 360, "height": 780}, {"width": 390, "height": 844})
ANONYMOUS = "anonymous"
# Pages for people who are not signed in: walked once, without signing in, not by every role.
PUBLIC = {
    "login",
    "signup",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "verify-email",
    "profile-email-confirm",
    "verify-search",
    "verify",
}

# Patterns that are not pages a person reads, or that the demo cannot open; each says why.
NOT_WALKED = {
    "healthz": "probe for the load balancer",
    "api-schema": "the API's OpenAPI schema",
    "api-docs": "the API's Swagger UI (a third-party page)",
    "readyz": "probe for the load balancer",
    "logout": "POST only",
    "set-language": "POST only (the header's language switch)",
    "ledger-verify": "HTMX POST fragment of the ledger page",
    "ledger-checkpoint": "the log's signed checkpoint, plain text for verifiers",
    "ledger-tile": "a binary tile of the log's hashes",
    "ledger-verifier-key": "the log's public key, plain text for verifiers",
    "membership-reactivate": "POST only",
    "membership-resend": "POST only",
    "api-key-revoke": "the demo issues no API key (tests/organisations cover the page)",
    "application-send": "POST only",
    "application-clearance-cancel": "POST only",
    "clearance-claim": "POST only",
    "clearance-decide": "POST only",
    "clearance-change-reenter": "only for a change restored from the ledger; none in the demo",
    "emission-check": "HTMX fragment of the emission decision form",
    "notifications:mark-read": "POST only",
    "notifications:mark-all-read": "POST only",
    "notifications:bell": "HTMX fragment of the header",
    "notifications:webhook-detail": "the demo subscribes no webhook",
    "notifications:webhook-pause": "POST only",
    "notifications:webhook-resume": "POST only",
    "notifications:webhook-delete": "the demo subscribes no webhook",
    "payment-start": "POST only",
    "payment-callback": "the gateway's POST",
    "payment-sandbox-checkout": "opened from a payment the demo does not start",
    "receipt-pdf": "a PDF download (recorded as a reprint), not a page",
    "payment-refund": "POST only",
    "mortgage-answer": "POST only",
    "mortgage-release": "POST only",
    "mortgage-withdraw": "POST only",
    "sale-notice": "POST only",
    "sale-deed": "POST only",
    "sale-cancel": "POST only",
    "application-live": "HTMX fragment of the application page",
    "application-submit": "POST only",
    "application-resubmit": "POST only",
    "vehicle-correct": "POST only",
    "application-review": "POST only",
    "application-return": "POST only",
    "registration-approve": "POST only",
    "registration-reject": "POST only",
    "document-add": "POST only",
    "clearance-evidence": "POST only",
    "document-download": "a file (PDF or image), not a page",
    "certificate": "a PDF",
    "certificate-credential": "a JWT",
    "credential-status-list": "a JWT",
    "credential-jwks": "JSON",
    "jwt-vc-issuer": "JSON",
    "origin-flag-clear": "POST only",
    "dealer-origin-sell": "POST only",
    "hold-evidence": "a file, not a page",
    "hold-lift": "POST only",
    "profile-email": "POST only",
}


def _named_patterns(patterns: list, namespace: str | None = None) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith(("admin/", "api/")):
                continue  # Django's admin; the JSON API
            yield from _named_patterns(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def _once_per(rows, key: Callable) -> list:
    """The first row of each kind (status, type...): one page of each shape is enough."""
    seen: dict = {}
    for row in rows:
        seen.setdefault(key(row), row)
    return list(seen.values())


def _pages() -> dict[str, Callable[[], list[str]]]:
    """Each walked pattern's addresses in the demo data (read when the demo is loaded)."""
    from clearance.models import ClearanceRequest
    from payments.models import OfficialReceipt, Payment
    from registry import sales
    from registry.models import Document, Hold, Mortgage, OriginRecord, Sale, Vehicle
    from registry.models import RegistrationApplication as Application

    user = get_user_model()
    applications = lambda: _once_per(  # noqa: E731
        Application.objects.order_by("pk"), lambda a: (a.status, a.type)
    )

    def token_for(username: str) -> tuple[str, str]:
        person = user.objects.get(username=username)
        return urlsafe_base64_encode(force_bytes(person.pk)), default_token_generator.make_token(
            person
        )

    def one(name: str, *args) -> list[str]:
        return [reverse(name, args=args)]

    return {
        "home": lambda: one("home"),
        "login": lambda: one("login"),
        "signup": lambda: one("signup"),
        "password_reset": lambda: one("password_reset"),
        "password_reset_done": lambda: one("password_reset_done"),
        "password_reset_confirm": lambda: one("password_reset_confirm", *token_for("owner.pedro")),
        "password_reset_complete": lambda: one("password_reset_complete"),
        # A used or forged link: its refusal is the page a person sees.
        "verify-email": lambda: one("verify-email", *token_for("owner.pedro")),
        # A forged link: its refusal is the page a person sees.
        "profile-email-confirm": lambda: one("profile-email-confirm", "forged-link"),
        "profile": lambda: one("profile"),
        "privacy": lambda: one("privacy"),
        "verify-search": lambda: one("verify-search"),
        "verify": lambda: [
            reverse("verify", args=[a.reference]) for a in applications() if a.status == "approved"
        ],
        "ledger": lambda: one("ledger"),
        "organisation": lambda: one("organisation"),
        "api-key-index": lambda: one("api-key-index"),
        "api-keys": lambda: [
            reverse("api-keys", args=[pk])
            for pk in Organisation.objects.filter(memberships__role=Membership.Role.ADMIN)
            .values_list("pk", flat=True)
            .distinct()
        ],
        "membership-deactivate": lambda: [
            reverse("membership-deactivate", args=[m.pk])
            for m in _once_per(
                Membership.objects.filter(role=Membership.Role.OFFICER).order_by("pk"),
                lambda m: m.organisation_id,
            )
        ],
        "clearance-queue": lambda: one("clearance-queue"),
        "clearance-detail": lambda: [
            reverse("clearance-detail", args=[r.pk])
            for r in _once_per(
                ClearanceRequest.objects.order_by("pk"), lambda r: (r.kind, r.status)
            )
        ],
        "notifications:list": lambda: one("notifications:list"),
        "notifications:preferences": lambda: one("notifications:preferences"),
        "notifications:webhooks": lambda: one("notifications:webhooks"),
        "vehicle-new": lambda: one("vehicle-new"),
        "application-new": lambda: one("application-new"),
        "application-detail": lambda: [
            reverse("application-detail", args=[a.pk]) for a in applications()
        ],
        "application-cancel": lambda: [
            reverse("application-cancel", args=[a.pk])
            for a in Application.objects.filter(status__in=["draft", "submitted"]).order_by("pk")
        ],
        "document-detail": lambda: [
            reverse("document-detail", args=[d.application_id, d.pk])
            for d in _once_per(Document.objects.order_by("pk"), lambda d: d.doc_type)[:3]
        ],
        "vehicle-ownership": lambda: [
            reverse("vehicle-ownership", args=[v.pk])
            for v in Vehicle.objects.exclude(mv_file_number="").order_by("pk")
        ],
        "vehicle-deregister": lambda: [
            reverse("vehicle-deregister", args=[v.pk])
            for v in Vehicle.objects.exclude(mv_file_number="").filter(is_active=True)[:1]
        ],
        "sale-start": lambda: [
            reverse("sale-start", args=[v.pk])
            for v in _once_per(
                Vehicle.objects.exclude(mv_file_number="").filter(is_active=True).order_by("pk"),
                lambda v: v.owner_id,
            )
        ],
        "sale-detail": lambda: [reverse("sale-detail", args=[s.pk]) for s in Sale.objects.all()],
        "sale-withdraw": lambda: [
            reverse("sale-withdraw", args=[s.pk])
            for s in Sale.objects.filter(status=Sale.Status.AWAITING_BUYER)[:1]
        ],
        "sale-answer": lambda: [
            reverse("sale-answer", args=[sales.sale_token(s)])
            for s in Sale.objects.filter(status=Sale.Status.AWAITING_BUYER)
        ],
        "mortgages": lambda: one("mortgages"),
        "receipts": lambda: one("receipts"),
        "receipt-detail": lambda: [
            reverse("receipt-detail", args=[r.number])
            for r in _once_per(OfficialReceipt.objects.order_by("pk"), lambda r: r.is_void)
        ],
        "receipt-void": lambda: [
            reverse("receipt-void", args=[r.number])
            for r in OfficialReceipt.objects.filter(voided_at__isnull=True).order_by("pk")[:1]
        ],
        "payment-done": lambda: [
            reverse("payment-done", args=[p.reference])
            for p in _once_per(Payment.objects.order_by("pk"), lambda p: p.payer_id)
        ],
        "mortgage-detail": lambda: [
            reverse("mortgage-detail", args=[m.reference]) for m in Mortgage.objects.all()
        ],
        "lto-queue": lambda: one("lto-queue"),
        "dealer-origins": lambda: [
            reverse("dealer-origins", args=[o.code])
            for o in Organisation.objects.filter(kind="DEALER")
        ],
        "dealer-origin-new": lambda: [
            reverse("dealer-origin-new", args=[o.code])
            for o in Organisation.objects.filter(kind="DEALER")
        ],
        "dealer-origin": lambda: [
            reverse("dealer-origin", args=[o.dealer.code, o.pk])
            for o in _once_per(
                OriginRecord.objects.select_related("dealer", "vehicle").order_by("pk"),
                lambda o: o.vehicle_id is None,
            )
        ],
        "holds": lambda: one("holds"),
        "hold-new": lambda: one("hold-new"),
        "hold-detail": lambda: [
            reverse("hold-detail", args=[h.reference]) for h in Hold.objects.all()
        ],
    }


def test_every_url_pattern_is_walked_or_said_why_not():
    walked = set(_pages())
    named = set(_named_patterns(get_resolver().url_patterns))
    unlisted = named - walked - set(NOT_WALKED)
    assert not unlisted, (
        f"New URL patterns {sorted(unlisted)}: add each GET page to _pages() in "
        f"{Path(__file__).name} (with the demo objects to open it for), or say in NOT_WALKED "
        "why it is not a page."
    )
    assert not (walked & set(NOT_WALKED)), walked & set(NOT_WALKED)
    assert not (walked | set(NOT_WALKED)) - named, "listed patterns that no longer exist"


# In the page: number the table cells the desktop shows, then check them at a phone's width.
_MARK_CELLS = """
() => {
  const shown = el => {
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== 'hidden';
  };
  // A header whose only text is for screen readers (an actions column) shows nothing.
  const onlyForReaders = el => [...el.querySelectorAll('.sr-only, .visually-hidden')]
    .map(hidden => hidden.innerText).join('').trim() === el.innerText.trim();
  const cells = [...document.querySelectorAll('main table td, main table th')]
    .filter(el => el.innerText.trim() && shown(el) && !onlyForReaders(el));
  return cells.map((el, i) => {
    el.setAttribute('data-layout-cell', i);
    return {
      i, text: el.innerText.replace(/\\s+/g, ' ').trim(), header: !!el.closest('thead'),
    };
  });
}
"""

_CHECK_CELLS = """
(cells) => {
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px wide)`);
  }
  for (const cell of cells) {
    const el = document.querySelector(`[data-layout-cell="${cell.i}"]`);
    if (cell.header) {
      // A column's name reaches the phone as the label each of its cells shows before its
      // text (a row's own header cell names the row instead).
      const rows = el.closest('table').querySelectorAll('tbody tr, tfoot tr');
      for (const row of rows) {
        const own = row.cells[el.cellIndex];
        if (!own || own.tagName !== 'TD' || own.colSpan > 1) continue;
        if ((own.dataset.label || '') !== cell.text) {
          problems.push(`a cell of column "${cell.text}" is labelled "${own.dataset.label || ''}"`);
          break;
        }
      }
      continue;
    }
    const box = el.getBoundingClientRect();
    const text = el.innerText.replace(/\\s+/g, ' ').trim();
    if (box.width < 1 || box.height < 1 || getComputedStyle(el).visibility === 'hidden') {
      problems.push(`cell "${cell.text}" is hidden`);
    } else if (text !== cell.text) {
      problems.push(`cell "${cell.text}" shows only "${text}"`);
    } else if (box.left < -0.5 || box.right > width + 0.5 || el.scrollWidth > el.clientWidth + 1) {
      problems.push(`cell "${cell.text}" runs off the screen (${box.left}..${box.right} px)`);
    }
  }
  return problems;
}
"""


def _name_of(path: str) -> str:
    match = resolve(path)
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


def _slug(path: str) -> str:
    return re.sub(r"[^\w.-]+", "-", path).strip("-")[:80] or "home"


ROLES = [ANONYMOUS, *(username for username, *_ in PEOPLE)]


@dataclass
class Demo:
    """The demo loaded once for this module, its pages' addresses, and what each role opened."""

    urls: dict[str, list[str]]
    opened: dict[str, set[str]] = field(default_factory=dict)


@contextmanager
def demo_loaded(django_db_blocker) -> Iterator[dict[str, list[str]]]:
    """The demo as `make run` loads it, committed (for a live server too), and the addresses
    of its pages; afterwards the database goes back to what the session started with, the
    world and the reference data."""
    from registry.models import Document
    from tests.conftest import build_world

    with django_db_blocker.unblock():
        # A database without the tests' world, as on a new install.
        delete_world()
        seed_reference_data()
        call_command("load_demo", stdout=StringIO())
        # The server's hasher, not the tests' fast one (see tests.browser.conftest), committed
        # here: a test's own transaction would hold the rows the server's login updates.
        get_user_model().objects.filter(username__in=ROLES).update(password=_server_password_hash())
        urls = {name: build() for name, build in _pages().items()}
    try:
        yield urls
    finally:
        with django_db_blocker.unblock():
            # The papers went to the document folder the server reads (var/media).
            storage_root = Path(settings.STORAGES["documents:filesystem"]["OPTIONS"]["location"])
            for location in Document.objects.values_list("location", flat=True):
                (storage_root / location).unlink(missing_ok=True)
            call_command("flush", interactive=False, verbosity=0)
            build_world()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, _live_server_process) -> Iterator[Demo]:
    """Loaded once for the module's tests (each role's walk only reads it)."""
    with demo_loaded(django_db_blocker) as urls:
        yield Demo(urls)


def _openable(context, base_url: str, role: str, demo: Demo) -> dict[str, str]:
    """For each pattern, the first of its demo pages the role may open (HTML, 200 or 400);
    the others share its template. A 403/404 is a page the role may not see."""
    found: dict[str, str] = {}
    for name, addresses in demo.urls.items():
        if (name in PUBLIC) != (role == ANONYMOUS):
            continue
        for address in addresses:
            answer = context.request.get(address)
            html = answer.headers.get("content-type", "").startswith("text/html")
            if answer.status in {200, 400} and html:
                final = urlsplit(answer.url).path
                if _name_of(final) == name:  # else it sent the role elsewhere
                    found[name] = address
                break
    return found


def _signed_in_context(browser, base_url: str, role: str, language: str | None = None):
    """A desktop browser signed in as ``role``; in ``language`` (its Accept-Language and the
    language cookie) when one is given, else the browser's English."""
    context = browser.new_context(
        base_url=base_url,
        viewport=DESKTOP,
        locale=language or "en-PH",
        timezone_id="Asia/Manila",
        extra_http_headers={"Accept-Language": language} if language else None,
    )
    if language:
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
        )
    context.set_default_timeout(15_000)
    page = context.new_page()
    if role != ANONYMOUS:
        page.goto("/login/")
        page.locator("#id_username").fill(role)
        page.locator("#id_password").fill(PASSWORD)
        page.locator('form:has(#id_password) [type="submit"]').click()
        page.wait_for_url(lambda url: urlsplit(url).path != "/login/")
    return context, page


def _check_page(page, role: str, address: str, problems: list[str]) -> Path:
    """Check the page at each width and save its pictures; return the 360 px one."""
    page.set_viewport_size(DESKTOP)
    page.goto(address)
    folder = SHOTS / role
    folder.mkdir(parents=True, exist_ok=True)
    cells = page.evaluate(_MARK_CELLS)
    phone_shot = folder / f"{_slug(address)}-360.jpg"
    for viewport in (DESKTOP, *PHONES):
        page.set_viewport_size(viewport)
        for problem in page.evaluate(_CHECK_CELLS, cells):
            problems.append(f"{address} at {viewport['width']} px: {problem}")
        if viewport is PHONES[1]:
            continue  # checked; the 360 px picture shows the phone layout
        # The whole phone page; the desktop's first screen.
        page.screenshot(
            path=folder / f"{_slug(address)}-{viewport['width']}.jpg",
            full_page=viewport is not DESKTOP,
            type="jpeg",
            quality=70,
        )
    return phone_shot


def _contact_sheet(role: str, shots: list[tuple[str, Path]], folders: list[Path]) -> None:
    """The role's pages at 360 px, the top of each, small, with its address under it."""
    thumb_w, thumb_h, caption, columns = 120, 260, 24, 6
    rows = -(-len(shots) // columns)
    sheet = Image.new("RGB", (columns * (thumb_w + 8) + 8, rows * (thumb_h + caption + 8) + 8))
    sheet.paste((235, 238, 242), (0, 0, *sheet.size))
    draw = ImageDraw.Draw(sheet)
    for number, (address, path) in enumerate(shots):
        x = 8 + (number % columns) * (thumb_w + 8)
        y = 8 + (number // columns) * (thumb_h + caption + 8)
        with Image.open(path) as shot:
            top = shot.crop((0, 0, shot.width, min(shot.height, shot.width * thumb_h // thumb_w)))
            top.thumbnail((thumb_w, thumb_h))
            sheet.paste(top, (x, y))
        label = address if len(address) <= 30 else address[:29] + "…"
        draw.text((x, y + thumb_h + 6), label, fill=(27, 36, 48))
    small = sheet.quantize(colors=24)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        small.save(folder / f"{role}.png", optimize=True)


# The tests only read the demo, which the module's fixture committed; the database mark lets
# pytest-django set the test database up (the tests' own transaction stays empty).
@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_page_of_the_role_fits_a_phone_and_loses_no_table_cell(
    role, demo, browser, _live_server_process
):
    base_url = _live_server_process.url
    # No picture left over from an earlier run; the role's own folder only, as pytest-xdist's
    # workers may walk other roles at the same time.
    shutil.rmtree(SHOTS / role, ignore_errors=True)
    context, page = _signed_in_context(browser, base_url, role)
    problems: list[str] = []
    shots: list[tuple[str, Path]] = []
    try:
        pages = _openable(context, base_url, role, demo)
        demo.opened[role] = set(pages)
        walked: set[str] = set()
        for address in pages.values():
            landed = urlsplit(context.request.get(address).url).path
            if landed in walked:
                continue  # a redirect to a page walked already
            walked.add(landed)
            shots.append((address, _check_page(page, role, address, problems)))
    finally:
        context.close()
    sheets = [SHOTS / "contact-sheets"]
    if os.environ.get("TALAAN_CONTACT_SHEETS"):
        sheets.append(REPO / os.environ["TALAAN_CONTACT_SHEETS"])
    _contact_sheet(role, shots, sheets)
    assert pages, f"{role} could open none of the pages"
    assert not problems, f"{role}:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_every_listed_page_opens_for_some_role(demo, browser, _live_server_process):
    """A page listed in _pages() that no role can open in the demo would never be checked."""
    base_url = _live_server_process.url
    for role in ROLES:
        if role not in demo.opened:  # this role's walk did not run in this session
            context, _ = _signed_in_context(browser, base_url, role)
            try:
                demo.opened[role] = set(_openable(context, base_url, role, demo))
            finally:
                context.close()
    opened = set().union(*demo.opened.values())
    assert not set(demo.urls) - opened, (
        f"No demo role could open these pages: {sorted(set(demo.urls) - opened)}"
    )
