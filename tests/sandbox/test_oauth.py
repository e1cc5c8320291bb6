"""OAuth over real HTTP: consent page, code and refresh grants, location tokens, installed locations."""

from __future__ import annotations

import re

from sandbox.client import AGENCY_SCOPES, LOCATION_SCOPES

REDIRECT = "http://localhost/cb"


def consent(sandbox, **params):
    query = {"response_type": "code", "client_id": "tagscope-sandbox", "redirect_uri": REDIRECT,
             "scope": LOCATION_SCOPES, "state": "s-123", **params}
    return sandbox.http.get(f"{sandbox.url}/oauth/chooselocation", params=query)


def test_the_consent_page_lists_agencies_and_locations_with_approve_and_deny(sandbox):
    state = sandbox.state()
    page = consent(sandbox)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in page.text
    agency = state["agencies"][0]
    assert f'value="company:{agency["id"]}"' in page.text
    for location in state["locations"]:
        assert f'value="location:{location["id"]}"' in page.text
        assert f'aria-label="Approve location {location["name"]}"' in page.text
    assert 'value="deny"' in page.text
    assert 'name="state" value="s-123"' in page.text
    assert "socialplanner/tag.readonly" in page.text


def test_the_consent_page_refuses_a_missing_redirect_uri_or_unknown_client(sandbox):
    assert consent(sandbox, redirect_uri="").status_code == 400
    assert consent(sandbox, client_id="someone-else").status_code == 400


def test_deny_redirects_with_access_denied_and_the_state(sandbox):
    assert sandbox.authorize("deny", state="abc") == {"error": "access_denied", "state": "abc"}


def test_a_location_install_gives_location_tokens_that_refresh_and_rotate(sandbox):
    location = sandbox.state()["locations"][0]
    callback = sandbox.authorize(f"location:{location['id']}", state="st")
    assert callback["state"] == "st"
    assert callback["code"].startswith("sbxcode_")
    answer = sandbox.exchange(grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT,
                              user_type="Location")
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["access_token"].startswith("sbxat_")
    assert tokens["refresh_token"].startswith("sbxrt_")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 86399
    assert tokens["userType"] == "Location"
    assert tokens["locationId"] == location["id"]
    assert tokens["companyId"] == location["companyId"]
    assert set(tokens["scope"].split()) == set(LOCATION_SCOPES.split())
    assert {"userId", "isBulkInstallation", "planId"} <= set(tokens)
    tags = sandbox.api("GET", f"/social-media-posting/{location['id']}/tags", tokens["access_token"])
    assert tags.status_code == 200

    refreshed = sandbox.exchange(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    fresh = refreshed.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]

    reused = sandbox.exchange(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert sandbox.exchange(grant_type="refresh_token", refresh_token=fresh["refresh_token"]).status_code == 200
    stats = sandbox.stats()
    assert stats["token_grants"] == {"authorization_code": 1, "refresh_token": 2}
    assert stats["refresh_token_reuse"] == 1


def test_codes_are_single_use(sandbox):
    location_id = sandbox.state()["locations"][0]["id"]
    code = sandbox.authorize(f"location:{location_id}")["code"]
    assert sandbox.exchange(grant_type="authorization_code", code=code).status_code == 200
    again = sandbox.exchange(grant_type="authorization_code", code=code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_codes_expire_after_ten_minutes_of_sandbox_time(sandbox):
    location_id = sandbox.state()["locations"][0]["id"]
    code = sandbox.authorize(f"location:{location_id}")["code"]
    sandbox.advance(601)
    assert sandbox.exchange(grant_type="authorization_code", code=code).json()["error"] == "invalid_grant"


def test_a_wrong_secret_is_invalid_client_and_a_json_body_is_refused(sandbox):
    answer = sandbox.exchange(grant_type="refresh_token", refresh_token="x", client_secret="nope")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    as_json = sandbox.http.post(f"{sandbox.url}/oauth/token", json={"client_id": "tagscope-sandbox"})
    assert as_json.status_code == 400
    unknown = sandbox.exchange(grant_type="refresh_token", refresh_token="sbxrt_unknown")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_grant")
    assert "error_description" in unknown.json()


def test_an_agency_install_mints_location_tokens_and_lists_installed_locations(sandbox):
    state = sandbox.state()
    agency = state["agencies"][0]
    tokens = sandbox.oauth_tokens(f"company:{agency['id']}")
    assert tokens["userType"] == "Company"
    assert "locationId" not in tokens
    assert tokens["companyId"] == agency["id"]
    assert sorted(tokens["approvedLocations"]) == sorted(agency["locationIds"])
    assert tokens["isBulkInstallation"] is True
    agency_token = tokens["access_token"]
    location_id = agency["locationIds"][0]

    # An agency token cannot read Social Planner data itself.
    denied = sandbox.api("GET", f"/social-media-posting/{location_id}/tags", agency_token)
    assert denied.status_code == 403
    assert "Location token" in denied.json()["message"]

    minted = sandbox.api("POST", "/oauth/locationToken", agency_token,
                         data={"companyId": agency["id"], "locationId": location_id})
    assert minted.status_code == 200
    body = minted.json()
    assert body["access_token"].startswith("sbxlt_")
    assert "refresh_token" not in body
    assert body["expires_in"] == 86399
    assert (body["userType"], body["locationId"]) == ("Location", location_id)
    assert sandbox.api("GET", f"/social-media-posting/{location_id}/tags", body["access_token"]).status_code == 200
    assert sandbox.stats()["location_tokens_minted"] == 1

    missing_version = sandbox.api("POST", "/oauth/locationToken", agency_token, version=None,
                                  data={"companyId": agency["id"], "locationId": location_id})
    assert missing_version.status_code == 400

    listed = sandbox.api("GET", "/oauth/installedLocations", agency_token, params={
        "companyId": agency["id"], "appId": "tagscope", "skip": "0", "limit": "2", "isInstalled": "true"})
    assert listed.status_code == 200
    assert listed.json()["count"] == len(agency["locationIds"])
    assert len(listed.json()["locations"]) == 2
    row = listed.json()["locations"][0]
    assert set(row) == {"_id", "name", "address", "isInstalled", "installedAt"}
    rest = sandbox.api("GET", "/oauth/installedLocations", agency_token, params={
        "companyId": agency["id"], "appId": "tagscope", "skip": "2", "limit": "2", "isInstalled": "true"})
    assert len(rest.json()["locations"]) == len(agency["locationIds"]) - 2

    sandbox.uninstall(location_id)
    after = sandbox.api("GET", "/oauth/installedLocations", agency_token, params={
        "companyId": agency["id"], "appId": "tagscope", "isInstalled": "true"}).json()
    assert location_id not in [r["_id"] for r in after["locations"]]
    refused = sandbox.api("POST", "/oauth/locationToken", agency_token,
                          data={"companyId": agency["id"], "locationId": location_id})
    assert refused.status_code == 400
    sandbox.install(location_id)
    assert sandbox.api("POST", "/oauth/locationToken", agency_token,
                       data={"companyId": agency["id"], "locationId": location_id}).status_code == 200


def test_a_location_token_needs_oauth_write_on_the_agency_token(sandbox):
    agency = sandbox.state()["agencies"][0]
    tokens = sandbox.oauth_tokens(f"company:{agency['id']}", scope=LOCATION_SCOPES)
    answer = sandbox.api("POST", "/oauth/locationToken", tokens["access_token"],
                         data={"companyId": agency["id"], "locationId": agency["locationIds"][0]})
    assert answer.status_code == 403
    assert answer.json() == {"statusCode": 403, "message": "The token is not authorized for this scope.",
                             "error": "Forbidden"}
    assert AGENCY_SCOPES.split()[0] == "oauth.readonly"


def test_access_tokens_expire_on_the_sandbox_clock(sandbox):
    location_id = sandbox.state()["locations"][0]["id"]
    tokens = sandbox.oauth_tokens(f"location:{location_id}")
    path = f"/social-media-posting/{location_id}/accounts"
    sandbox.advance(86000)
    assert sandbox.api("GET", path, tokens["access_token"]).status_code == 200
    sandbox.advance(400)
    expired = sandbox.api("GET", path, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {"statusCode": 401, "message": "Invalid token: access token is invalid",
                              "error": "Unauthorized"}
    fresh = sandbox.exchange(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert sandbox.api("GET", path, fresh["access_token"]).status_code == 200


def test_tokens_look_right(sandbox):
    location_id = sandbox.state()["locations"][0]["id"]
    tokens = sandbox.oauth_tokens(f"location:{location_id}")
    assert re.fullmatch(r"sbxat_[A-Za-z0-9_-]{20,}", tokens["access_token"])
    assert re.fullmatch(r"sbxrt_[A-Za-z0-9_-]{20,}", tokens["refresh_token"])


def test_the_consent_page_is_also_served_under_v2(sandbox):
    page = sandbox.http.get(f"{sandbox.url}/v2/oauth/chooselocation", params={
        "response_type": "code", "client_id": "tagscope-sandbox", "redirect_uri": REDIRECT, "scope": "x"})
    assert page.status_code == 200
    assert 'action="/oauth/chooselocation"' in page.text
