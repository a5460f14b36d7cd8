"""Every page and fragment answers 404 (or 403) to a user who may not see its object.

Table-driven: each row names a URL, who may open it, and who must be refused. The refusal
must carry no data of the object (its reference must not appear in the response).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from organisations.models import ApiKey
from organisations.services import api_key_create
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance
from tests.paying import pay_in_full


@dataclass
class Scene:
    application: object
    other_application: object
    requests: dict
    approved: object
    hpg_key: ApiKey


@pytest.fixture
def scene(world):
    application, requests = sent_for_clearance(world)
    other = filed_application(world, owner=world.other_owner)
    approved_app, approved_requests = sent_for_clearance(world)
    for request in approved_requests.values():
        claim_and_approve(world, request)
    pay_in_full(approved_app)
    from registry import services

    services.registration_approve(application_id=approved_app.pk, actor=world.lto_admin)
    hpg_key, _ = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="claims", scopes=["read"]
    )
    return Scene(application, other, requests, approved_app, hpg_key)


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


GET_CASES = [
    # (url builder, allowed user names, refused user names)
    (
        lambda s: reverse("application-detail", args=[s.application.pk]),
        ["owner", "lto_admin", "hpg_officer", "insurer_officer"],
        ["other_owner"],
    ),
    (
        lambda s: reverse("application-live", args=[s.application.pk]),
        ["owner", "lto_admin", "emission_officer"],
        ["other_owner"],
    ),
    (
        lambda s: reverse("application-detail", args=[s.other_application.pk]),
        ["other_owner", "lto_admin"],
        ["owner", "hpg_officer", "insurer_officer"],
    ),
    (
        lambda s: reverse("clearance-detail", args=[s.requests["HPG"].pk]),
        ["hpg_officer", "hpg_admin", "lto_admin", "owner"],
        ["insurer_officer", "emission_officer", "other_owner"],
    ),
    (
        lambda s: reverse("clearance-detail", args=[s.requests["INSURANCE"].pk]),
        ["insurer_officer"],
        ["hpg_officer", "emission_officer", "other_owner"],
    ),
    (
        lambda s: (
            reverse("emission-check", args=[s.requests["EMISSION"].pk])
            + "?fuel=gasoline&co_percent=1&hc_ppm=10"
        ),
        ["emission_officer"],
        ["hpg_officer", "insurer_officer", "other_owner"],
    ),
    (
        lambda s: reverse("certificate", args=[s.approved.pk]),
        ["owner", "lto_admin"],
        ["other_owner", "hpg_officer"],
    ),
    (
        lambda s: reverse("certificate-credential", args=[s.approved.pk]),
        ["owner", "lto_admin"],
        ["other_owner", "hpg_officer"],
    ),
    (lambda s: reverse("ledger"), ["lto_admin"], ["owner", "hpg_officer", "hpg_admin"]),
    (lambda s: reverse("organisation"), ["hpg_admin"], ["hpg_officer", "owner", "insurer_officer"]),
    (
        lambda s: reverse("api-keys", args=[s.hpg_key.organisation_id]),
        ["hpg_admin", "lto_admin"],
        ["owner", "insurer_officer", "emission_officer"],
    ),
    (
        lambda s: reverse("api-key-revoke", args=[s.hpg_key.organisation_id, s.hpg_key.pk]),
        ["hpg_admin", "lto_admin"],
        ["owner", "insurer_officer", "emission_officer"],
    ),
    (lambda s: reverse("api-key-index"), ["lto_admin"], ["owner"]),
    (
        lambda s: reverse("vehicle-deregister", args=[s.approved.vehicle_id]),
        ["lto_admin"],
        ["owner", "other_owner", "hpg_officer", "hpg_admin"],
    ),
]


@pytest.mark.parametrize("url_for,allowed,refused", GET_CASES)
def test_each_page_opens_for_those_allowed_and_is_404_for_others(
    client, world, scene, url_for, allowed, refused
):
    url = url_for(scene)
    for name in allowed:
        response = _get(client, getattr(world, name), url)
        assert response.status_code == 200, (name, url, response.status_code)
    for name in refused:
        response = _get(client, getattr(world, name), url)
        assert response.status_code == 404, (name, url, response.status_code)
        assert scene.application.reference.encode() not in response.content


POST_CASES = [
    ("application-submit", lambda s: [s.other_application.pk], "owner"),
    ("application-cancel", lambda s: [s.other_application.pk], "owner"),
    ("application-review", lambda s: [s.other_application.pk], "hpg_officer"),
    ("application-send", lambda s: [s.application.pk], "other_owner"),
    ("registration-approve", lambda s: [s.application.pk], "other_owner"),
    ("document-add", lambda s: [s.other_application.pk], "owner"),
    ("clearance-claim", lambda s: [s.requests["INSURANCE"].pk], "hpg_officer"),
    ("clearance-decide", lambda s: [s.requests["EMISSION"].pk], "insurer_officer"),
    ("api-keys", lambda s: [s.hpg_key.organisation_id], "insurer_officer"),
    ("api-key-revoke", lambda s: [s.hpg_key.organisation_id, s.hpg_key.pk], "insurer_officer"),
    ("api-key-revoke", lambda s: [s.requests["INSURANCE"].organisation_id, s.hpg_key.pk], "owner"),
    ("vehicle-deregister", lambda s: [s.approved.vehicle_id], "owner"),
    ("vehicle-deregister", lambda s: [s.approved.vehicle_id], "hpg_admin"),
]


@pytest.mark.parametrize("name,args_for,intruder", POST_CASES)
def test_actions_on_objects_you_cannot_see_are_404_and_change_nothing(
    client, world, scene, name, args_for, intruder
):
    from registry.models import ApplicationStatusChange

    before = ApplicationStatusChange.objects.count()
    client.force_login(getattr(world, intruder))
    response = client.post(
        reverse(name, args=args_for(scene)),
        {"decision": "approved", "name": "intruder", "scopes": ["read", "decide"]},
    )
    assert response.status_code == 404
    assert ApplicationStatusChange.objects.count() == before
    assert list(ApiKey.objects.values_list("pk", "revoked_at")) == [(scene.hpg_key.pk, None)]


@pytest.mark.parametrize(
    "name,args_for,actor",
    [
        ("application-review", lambda s: [s.other_application.pk], "owner"),
        ("application-send", lambda s: [s.application.pk], "owner"),
        ("registration-approve", lambda s: [s.application.pk], "hpg_officer"),
    ],
)
def test_actions_on_objects_you_can_see_but_not_change_are_403(
    client, world, scene, name, args_for, actor
):
    client.force_login(getattr(world, actor))
    if actor == "owner" and name == "application-review":
        args = [scene.application.pk]
    else:
        args = args_for(scene)
    response = client.post(reverse(name, args=args))
    assert response.status_code == 403
    assert b"Only LTO staff can do this." in response.content


@pytest.mark.parametrize(
    "method,url_for",
    [
        ("get", lambda s: reverse("api-key-index")),
        ("get", lambda s: reverse("api-keys", args=[s.hpg_key.organisation_id])),
        ("post", lambda s: reverse("api-keys", args=[s.hpg_key.organisation_id])),
        (
            "get",
            lambda s: reverse("api-key-revoke", args=[s.hpg_key.organisation_id, s.hpg_key.pk]),
        ),
        (
            "post",
            lambda s: reverse("api-key-revoke", args=[s.hpg_key.organisation_id, s.hpg_key.pk]),
        ),
    ],
)
def test_an_officer_cannot_manage_their_organisations_api_keys(
    client, world, scene, method, url_for
):
    client.force_login(world.hpg_officer)

    response = getattr(client, method)(url_for(scene), {"name": "mine", "scopes": ["decide"]})

    assert response.status_code == 403
    assert b"Only" in response.content
    assert scene.hpg_key.prefix.encode() not in response.content
    assert list(ApiKey.objects.values_list("pk", "revoked_at")) == [(scene.hpg_key.pk, None)]
