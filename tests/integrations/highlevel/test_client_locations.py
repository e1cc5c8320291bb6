"""get_location: GET /locations/{locationId} parsed into LocationInfo, read liberally beyond the documented fields."""

from __future__ import annotations

import pytest
import responses

from integrations.highlevel import errors
from integrations.highlevel.parsing import parse_location_info
from integrations.highlevel.types import LocationInfo
from tests.integrations.highlevel.test_client import (  # noqa: F401  (fixtures)
    BASE,
    LOC,
    SECRET_TOKEN,
    clock,
    make_client,
    recorder,
)

LOCATION_URL = f"{BASE}/locations/{LOC}"
LOCATION = {"id": LOC, "companyId": "5DP4iH6HLkQsiKESj6rh", "name": "Cedar Park Dental",
            "timezone": "America/Chicago", "address": "12 Elm St", "city": "Austin", "state": "TX",
            "country": "US", "postalCode": "78701", "email": "front@example.com", "business": {"name": "x"}}


@pytest.fixture
def client(make_client):  # noqa: F811
    return make_client(max_retries=1)


@responses.activate
def test_it_reads_a_location_with_the_version_header(client):
    responses.get(LOCATION_URL, json={"location": LOCATION})
    info = client.get_location(LOC)
    assert info == LocationInfo(id=LOC, name="Cedar Park Dental", timezone="America/Chicago", address="12 Elm St",
                                city="Austin", state="TX", country="US", postal_code="78701",
                                company_id="5DP4iH6HLkQsiKESj6rh")
    assert info.raw["email"] == "front@example.com"  # unknown fields are kept, not refused
    assert info.one_line_address == "12 Elm St, Austin, TX 78701, US"
    sent = responses.calls[0].request
    assert sent.headers["Version"] == "2021-07-28"
    assert sent.headers["Authorization"] == f"Bearer {SECRET_TOKEN}"


@responses.activate
def test_the_location_id_is_escaped_in_the_path(client):
    responses.get(f"{BASE}/locations/a%2Fb", json={"location": {"id": "a/b", "name": "Odd"}})
    assert client.get_location("a/b").id == "a/b"


def test_undocumented_fields_of_an_odd_shape_are_none_not_an_error():
    info = parse_location_info({"location": {"_id": LOC, "name": "Only a name", "timezone": "",
                                             "city": 7, "state": None, "country": ["US"]}})
    assert (info.id, info.name, info.timezone, info.city, info.state, info.country) == (
        LOC, "Only a name", None, None, None, None)
    assert info.one_line_address == ""


def test_a_body_without_the_location_wrapper_is_accepted():
    assert parse_location_info({"id": LOC, "name": "Bare"}).name == "Bare"


def test_an_address_line_that_already_holds_the_city_is_not_repeated():
    info = LocationInfo(id=LOC, name="n", address="12 Elm St, Austin, TX 78701", city="Austin", state="TX",
                        postal_code="78701")
    assert info.one_line_address == "12 Elm St, Austin, TX 78701"


@pytest.mark.parametrize("body", [{"location": {"name": "no id"}}, {"location": "nope"}, ["x"]])
def test_a_location_without_an_id_is_a_bad_response(body):
    with pytest.raises(errors.BadResponse):
        parse_location_info(body)


@responses.activate
def test_a_missing_scope_raises_scope_error_without_retrying(client):
    responses.get(LOCATION_URL, status=403,
                  json={"statusCode": 403, "message": "The token is not authorized for this scope."})
    with pytest.raises(errors.ScopeError):
        client.get_location(LOC)
    assert len(responses.calls) == 1


@responses.activate
def test_a_5xx_is_retried(client):
    responses.get(LOCATION_URL, status=502, body="bad gateway")
    responses.get(LOCATION_URL, json={"location": LOCATION})
    assert client.get_location(LOC).timezone == "America/Chicago"
    assert len(responses.calls) == 2
