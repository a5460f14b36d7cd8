"""The owner is guided: progress steps with who is on each and how long it usually takes
(the organisation's real median), what to do once approved, and where to start with no
vehicle yet (issue 19, item 3)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse

from clearance import services as clearance_services
from clearance.models import ClearanceRequest
from tests.conftest import claim_and_approve, registered_application, sent_for_clearance
from tests.factories import UserFactory


def _steps(html: str) -> list[tuple[str, str]]:
    """(state, title) of each progress step, in order."""
    return re.findall(
        r'<li class="step[^"]*" data-state="(\w+)">.*?<strong>(.*?)</strong>', html, re.S
    )


def test_the_application_page_shows_what_is_done_what_is_now_and_who_does_it(client, world):
    application, requests = sent_for_clearance(world)
    clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    client.force_login(world.owner)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    steps = dict((title, state) for state, title in _steps(html))
    assert steps["Add your documents and file the application"] == "done"
    assert steps["The LTO reviews the application"] == "done"
    assert steps["HPG check"] == "current"
    assert steps["The LTO approves the registration"] == "waiting"
    assert "An officer is checking it now." in html
    assert "· PNP-HPG" in html


def test_each_check_shows_the_organisations_median_time_to_decide(client, world):
    from clearance.durations import forget_decision_medians

    for days in (1, 2, 5):
        _, requests = sent_for_clearance(world)
        claim_and_approve(world, requests["HPG"])
        hpg = ClearanceRequest.objects.get(pk=requests["HPG"].pk)
        ClearanceRequest.objects.filter(pk=hpg.pk).update(
            created_at=hpg.decided_at - timedelta(days=days)
        )
    forget_decision_medians({world.hpg.pk, world.insurer.pk})
    application, _ = sent_for_clearance(world)
    client.force_login(world.owner)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    hpg_step = re.search(r"<strong>HPG check</strong>.*?</li>", html, re.S).group(0)
    assert "Usually about 2 days (the median of 3 decided requests)" in hpg_step
    insurance_step = re.search(r"<strong>Insurance check</strong>.*?</li>", html, re.S).group(0)
    assert "Usually" not in insurance_step  # nothing decided yet: no guess


def test_after_approval_the_owner_is_told_where_to_collect_the_plate_and_what_to_bring(
    client, world
):
    application = registered_application(world)
    client.force_login(world.owner)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    what_next = re.search(r'data-testid="what-next">.*?</section>', html, re.S).group(0)
    assert "collect your plate" in what_next
    assert application.office.name in what_next
    assert "Bring:" in what_next and "official receipt" in what_next


def test_a_new_owner_with_no_vehicle_is_offered_to_register_one_first(client, world):
    newcomer = UserFactory(username="owner.new")
    client.force_login(newcomer)

    html = client.get(reverse("home")).content.decode()
    main = html[html.index("<main") : html.index("</main>")]  # the header's menu is not ours

    assert 'data-testid="start-here"' in main
    assert reverse("application-new") not in main
    assert f'class="button primary" href="{reverse("vehicle-new")}"' in main
