"""GET /locations/{locationId}: the shape, and who may read a location (scope, location or agency token)."""

from __future__ import annotations

from sandbox.client import AGENCY_SCOPES, LOCATION_SCOPES

from .helpers import first_location, location_pit

WITH_LOCATIONS = f"{LOCATION_SCOPES} locations.readonly"


def test_a_location_answers_its_name_timezone_and_address_parts(sandbox):
    truth = first_location(sandbox)
    location_id, pit = location_pit(sandbox)
    answer = sandbox.api("GET", f"/locations/{location_id}", pit)
    assert answer.status_code == 200
    assert answer.headers["X-Trace-Id"]
    location = answer.json()["location"]
    assert {k: location[k] for k in ("id", "name", "timezone", "companyId")} == {
        "id": location_id, "name": truth["name"], "timezone": truth["timezone"], "companyId": truth["companyId"]}
    assert {"address", "city", "state", "country", "postalCode"} <= set(location)
    street, city, state, postal = (location[k] for k in ("address", "city", "state", "postalCode"))
    assert truth["address"] == f"{street}, {city}, {state} {postal}"


def test_a_location_token_reads_only_its_own_location(sandbox):
    first, second = sandbox.location_ids()[:2]
    denied = sandbox.api("GET", f"/locations/{second}", sandbox.pit(first))
    assert denied.status_code == 403
    assert denied.json()["message"] == "The token does not have access to this location."


def test_an_oauth_location_token_needs_locations_readonly(sandbox):
    location_id = sandbox.location_ids()[0]
    without = sandbox.oauth_tokens(f"location:{location_id}")["access_token"]
    refused = sandbox.api("GET", f"/locations/{location_id}", without)
    assert refused.status_code == 403
    assert refused.json()["message"] == "The token is not authorized for this scope."
    granted = sandbox.oauth_tokens(f"location:{location_id}", scope=WITH_LOCATIONS)["access_token"]
    assert sandbox.api("GET", f"/locations/{location_id}", granted).status_code == 200


def test_an_agency_token_and_its_minted_location_tokens_read_the_agency_s_locations(sandbox):
    sandbox.reset(agencies=2, locations=4)
    state = sandbox.state()
    mine, theirs = state["agencies"]
    agency_token = sandbox.oauth_tokens(f"company:{mine['id']}")["access_token"]
    location_id = mine["locationIds"][0]
    assert sandbox.api("GET", f"/locations/{location_id}", agency_token).json()["location"]["id"] == location_id
    assert sandbox.api("GET", f"/locations/{theirs['locationIds'][0]}", agency_token).status_code == 403
    minted = sandbox.api("POST", "/oauth/locationToken", agency_token,
                         data={"companyId": mine["id"], "locationId": location_id}).json()["access_token"]
    assert sandbox.api("GET", f"/locations/{location_id}", minted).status_code == 200


def test_an_agency_install_without_locations_readonly_mints_tokens_that_cannot_read_details(sandbox):
    agency = sandbox.state()["agencies"][0]
    scope = LOCATION_SCOPES + " " + AGENCY_SCOPES.replace("locations.readonly", "").strip()
    agency_token = sandbox.oauth_tokens(f"company:{agency['id']}", scope=scope)["access_token"]
    location_id = agency["locationIds"][0]
    minted = sandbox.api("POST", "/oauth/locationToken", agency_token,
                         data={"companyId": agency["id"], "locationId": location_id}).json()["access_token"]
    assert sandbox.api("GET", f"/locations/{location_id}", minted).status_code == 403


def test_the_usual_checks_apply(sandbox):
    location_id, pit = location_pit(sandbox)
    assert sandbox.api("GET", f"/locations/{location_id}", "pit-unknown").status_code == 401
    assert sandbox.api("GET", f"/locations/{location_id}", pit, version=None).status_code == 400
