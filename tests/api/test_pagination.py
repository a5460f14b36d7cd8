"""Cursor pages: page_size is a whole number from 1 to 200, declared so in the schema."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem

LISTS = ["/api/v1/clearances/", "/api/v1/applications/", "/api/v1/notifications/"]


# The last is a full-width one: a digit to str.isdigit, not to the API.
@pytest.mark.parametrize("value", ["abc", "-3", "null", "0", "201", "", "1.5", "\uff11"])
@pytest.mark.parametrize("path", LISTS)
def test_a_page_size_out_of_bounds_is_a_400_naming_it(office, path, value):
    response = client_for(office, "hpg_officer").get(path, {"page_size": value})

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["page_size"]
    assert "1 to 200" in body["errors"]["page_size"][0]


@pytest.mark.parametrize("value", ["1", "200"])
def test_a_page_size_within_bounds_sets_the_page(office, value):
    response = client_for(office, "lto_admin").get("/api/v1/clearances/", {"page_size": value})

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == min(int(value), 6)


def test_every_paged_list_declares_the_bounds_of_page_size(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    declared = [
        parameter["schema"]
        for item in schema["paths"].values()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "page_size"
    ]
    assert len(declared) >= len(LISTS)
    for form in declared:
        assert (form["type"], form["minimum"], form["maximum"]) == ("integer", 1, 200)


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_the_list_did_not_give_out_is_a_400_naming_it(office, path):
    response = client_for(office, "hpg_officer").get(path, {"cursor": "not a cursor!"})

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["cursor"]
