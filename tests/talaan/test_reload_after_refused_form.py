"""A refused form is shown with its errors at the address it was posted to; a GET of that
address (a reload, Back, a language switch, a copied link) brings the page back, never 405.
"""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import filed_application, sent_for_clearance
from tests.registry.test_holds import place_stolen
from tests.transfers import registered


def _refused_then_reloaded(client, url: str, data: dict, refused_status: int):
    refused = client.post(url, data)
    assert refused.status_code == refused_status, refused.content[:300]
    reloaded = client.get(url, follow=True)
    assert reloaded.status_code == 200
    return refused, reloaded


def test_reloading_a_refused_return_of_an_application_shows_the_application(world, client):
    application, _ = sent_for_clearance(world)
    client.force_login(world.lto_admin)
    url = reverse("application-return", args=[application.pk])

    _, reloaded = _refused_then_reloaded(client, url, {"reason": ""}, 422)

    assert reloaded.redirect_chain == [(reverse("application-detail", args=[application.pk]), 302)]
    assert application.reference in reloaded.content.decode()


def test_reloading_a_refused_document_upload_shows_the_application(world, client):
    application = filed_application(world)
    client.force_login(world.owner)
    url = reverse("document-add", args=[application.pk])

    _, reloaded = _refused_then_reloaded(client, url, {"doc_type": "other"}, 422)

    assert application.reference in reloaded.content.decode()


def test_reloading_a_refused_decision_shows_the_decision_page(world, client):
    _, requests = sent_for_clearance(world)
    request = requests["INSURANCE"]
    client.force_login(world.insurer_officer)
    client.post(reverse("clearance-claim", args=[request.pk]))
    url = reverse("clearance-decide", args=[request.pk])

    _, reloaded = _refused_then_reloaded(client, url, {"decision": "approved"}, 422)

    assert reloaded.redirect_chain == [(reverse("clearance-detail", args=[request.pk]), 302)]
    assert 'id="decide-h"' in reloaded.content.decode()


def test_reloading_a_refused_hold_lift_shows_the_hold(world, client):
    hold = place_stolen(world, registered(world).vin)
    client.force_login(world.hpg_officer)
    url = reverse("hold-lift", args=[hold.reference])

    _, reloaded = _refused_then_reloaded(client, url, {"note": ""}, 422)

    assert hold.reference in reloaded.content.decode()


def test_a_form_address_still_refuses_methods_other_than_post_and_get(world, client):
    application = filed_application(world)
    client.force_login(world.owner)

    response = client.put(reverse("application-submit", args=[application.pk]))

    assert response.status_code == 405
