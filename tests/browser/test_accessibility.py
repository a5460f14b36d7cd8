"""axe-core on every page of every demo role, in every language the site offers (issue 19).

axe-core comes from npm (package.json / package-lock.json; `make test` runs `npm ci`) and is
injected into each page from node_modules, so no page loads anything from the network. A page
passes with no serious and no critical violation, and with no element id used twice (a
label's `for`, an `aria-describedby` or a test's locator would find the wrong element).

The pages are the phone-layout walk's (tests/browser/test_phone_layout.py): every URL pattern
is walked there or said why not, so a new page is checked here too. The languages are
settings.LANGUAGES when the project sets it (English and Filipino), else LANGUAGE_CODE alone;
each is asked for as a browser would (Accept-Language, and Django's language cookie).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.browser.conftest import REPO
from tests.browser.test_phone_layout import ROLES, _openable, _signed_in_context, demo

__all__ = ["demo"]  # the phone-layout walk's demo fixture, used here as it is

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def _languages() -> list[str]:
    if settings.is_overridden("LANGUAGES"):
        return [code for code, _name in settings.LANGUAGES]
    return [settings.LANGUAGE_CODE]


_RUN_AXE = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
  }));
}
"""

_DUPLICATE_IDS = """
() => {
  const seen = {};
  for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.keys(seen).filter(id => seen[id] > 1);
}
"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.fail(
            f"{AXE.relative_to(REPO)} is missing: run `npm ci` in the repository "
            "(`make test` does).",
            pytrace=False,
        )
    return AXE


@pytest.mark.django_db
@pytest.mark.parametrize("language", _languages())
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_has_no_serious_accessibility_violation(
    role, language, demo, browser, axe_script, _live_server_process
):
    base_url = _live_server_process.url
    context, page = _signed_in_context(browser, base_url, role, language)
    problems: list[str] = []
    checked = 0
    try:
        walked: set[str] = set()
        for address in _openable(context, base_url, role, demo).values():
            page.goto(address)
            landed = urlsplit(page.url).path
            if landed in walked:
                continue  # a redirect to a page checked already
            walked.add(landed)
            page.add_script_tag(path=str(axe_script))
            for violation in page.evaluate(_RUN_AXE):
                if violation["impact"] in BLOCKING:
                    problems.append(
                        f"{address}: {violation['impact']} {violation['id']} "
                        f"({violation['help']}) at {', '.join(violation['nodes'])}"
                    )
            for name in page.evaluate(_DUPLICATE_IDS):
                problems.append(f'{address}: id="{name}" is used more than once')
            checked += 1
    finally:
        context.close()
    assert checked, f"{role} could open none of the pages"
    assert not problems, f"{role} in {language}, {checked} pages:\n" + "\n".join(problems)
