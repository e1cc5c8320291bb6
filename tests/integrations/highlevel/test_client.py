"""HighLevelClient over a faked HTTP boundary (`responses`): headers, errors, retries, the 401 hook, OAuth."""

from __future__ import annotations

import dataclasses
import json
import random
from urllib.parse import parse_qs

import pytest
import requests
import responses

from integrations.highlevel import errors
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.config import ClientConfig, app_id_from_client_id
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
from integrations.highlevel.recording import MemoryRecorder
from integrations.highlevel.transport import USER_AGENT

CONFIG_FIELDS = {field.name for field in dataclasses.fields(ClientConfig)}

BASE = "https://hl.test"
LOC = "ve9EPM428h8vShlRW1KT"
TAGS_URL = f"{BASE}/social-media-posting/{LOC}/tags"
ACCOUNTS_URL = f"{BASE}/social-media-posting/{LOC}/accounts"
TOKEN_URL = f"{BASE}/oauth/token"
SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2MifQ.c2lnbmF0dXJlLXNlY3JldA"


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def tag(i: int, **extra) -> dict:
    return {"_id": f"t{i:04d}", "tag": f"Tag {i}", "locationId": LOC, "createdBy": "u1", "deleted": False,
            "createdAt": "2024-03-21T09:00:00.000Z", "updatedAt": "2024-03-22T10:00:00.000Z", **extra}


def tags_body(tags: list[dict]) -> dict:
    return {"success": True, "statusCode": 200, "message": "Fetched Tags by Location ID",
            "results": {"tags": tags, "count": len(tags)}}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def recorder():
    return MemoryRecorder()


@pytest.fixture
def make_client(clock, recorder):
    def make(**kwargs) -> HighLevelClient:
        config = ClientConfig(base_url=BASE, api_version="2021-07-28", timeout=(1.0, 2.0), max_retries=3,
                              client_id="abc123-xyz789", client_secret="client-secret-value")
        config = config.replace(**{name: kwargs.pop(name) for name in CONFIG_FIELDS & kwargs.keys()})
        options = {
            "token": lambda: SECRET_TOKEN,
            "sleep": clock.sleep,
            "clock": clock,
            "limiter": MemoryRateLimiter(clock=clock, sleep=clock.sleep),
            "recorder": recorder,
            "rng": random.Random(7),
            "connection_id": 42,
            "run_id": 9,
        }
        options.update(kwargs)
        return HighLevelClient(config, **options)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@responses.activate
def test_it_sends_auth_version_accept_user_agent_and_a_timeout(client):
    responses.get(TAGS_URL, json=tags_body([tag(1)]))
    seen = {}
    adapter = client.session.get_adapter("https://hl.test/")
    original = adapter.send

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    adapter.send = spy  # the session's pooled adapter sends every request
    assert [t.id for t in client.iter_tags(LOC)] == ["t0001"]
    headers = responses.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {SECRET_TOKEN}"
    assert headers["Version"] == "2021-07-28"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("Tagscope/")
    assert headers["Accept-Encoding"] == client.session.headers["Accept-Encoding"]  # the session's headers apply
    assert seen["timeout"] == (1.0, 2.0)
    assert parse_qs(responses.calls[0].request.url.split("?")[1]) == {"skip": ["0"], "limit": ["100"]}


def test_app_id_is_the_client_id_before_the_first_dash(make_client):
    assert app_id_from_client_id("65f1a2b3c4-lk2j3h4") == "65f1a2b3c4"
    assert make_client().app_id == "abc123"


def test_the_session_pools_connections_for_threads(client):
    adapter = client.session.get_adapter("https://hl.test/")
    assert adapter._pool_maxsize >= 8


def test_the_environments_proxy_and_ca_bundle_are_read_once_when_the_client_is_made(make_client, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = make_client().session
    assert session.proxies["https"] == "http://proxy.internal:3128" and session.verify == "/etc/ssl/company.pem"
    assert session.trust_env is False  # not looked up again for every request
    monkeypatch.setenv("NO_PROXY", "hl.test")
    assert "https" not in make_client().session.proxies


@responses.activate
def test_it_parses_tags_into_typed_objects(client):
    responses.get(TAGS_URL, json=tags_body([tag(1, deleted=True, extra={"x": 1})]))
    (t,) = list(client.iter_tags(LOC))
    assert (t.id, t.name, t.location_id, t.created_by, t.deleted) == ("t0001", "Tag 1", LOC, "u1", True)
    assert t.created_at.isoformat() == "2024-03-21T09:00:00+00:00"
    assert t.updated_at.tzinfo is not None
    assert t.raw["extra"] == {"x": 1}


# --- errors -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"statusCode": 400, "message": "Bad Request"}, errors.ValidationError),
        (401, {"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"},
         errors.AuthenticationError),
        (401, {"statusCode": 401, "message": "The token is not authorized for this scope."}, errors.ScopeError),
        (403, {"statusCode": 403, "message": "Forbidden"}, errors.ScopeError),
        (404, {"statusCode": 404, "message": "Not Found"}, errors.NotFound),
        (422, {"statusCode": 422, "message": ["skip must be a string", "limit must be a string"],
               "error": "Unprocessable Entity"}, errors.ValidationError),
        (418, {"message": "teapot"}, errors.HighLevelError),
    ],
)
@responses.activate
def test_client_errors_are_typed_and_never_retried(client, status, body, cls):
    responses.get(ACCOUNTS_URL, json=body, status=status, headers={"X-Trace-Id": "trace-1"})
    with pytest.raises(cls) as info:
        client.list_accounts(LOC)
    assert type(info.value) is cls
    assert info.value.status == status
    assert info.value.trace_id == "trace-1"
    assert info.value.endpoint == "/social-media-posting/{locationId}/accounts"
    assert len(responses.calls) == 1
    if status == 422:
        assert info.value.message == "skip must be a string; limit must be a string"


@responses.activate
def test_an_error_message_never_echoes_a_token(client):
    responses.get(ACCOUNTS_URL, status=400, json={"message": f"bad token {SECRET_TOKEN} access_token=abc123def"})
    with pytest.raises(errors.ValidationError) as info:
        client.list_accounts(LOC)
    assert SECRET_TOKEN not in str(info.value) and "abc123def" not in str(info.value)
    assert SECRET_TOKEN not in repr(info.value)


# --- retries -------------------------------------------------------------------------------------------------
@responses.activate
def test_a_5xx_then_success_is_retried(client, clock, recorder):
    responses.get(ACCOUNTS_URL, status=502, body="<html>bad gateway</html>")
    responses.get(ACCOUNTS_URL, status=503, json={"message": "unavailable"})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    listing = client.list_accounts(LOC)
    assert listing.accounts == () and len(responses.calls) == 3
    assert len(clock.sleeps) == 2
    assert [c.attempt for c in recorder.calls] == [1, 2, 3]
    assert [c.status for c in recorder.calls] == [502, 503, 200]
    assert [c.error for c in recorder.calls] == ["ServerError", "ServerError", ""]


@responses.activate
def test_a_timeout_then_success_is_retried(client, recorder):
    responses.get(ACCOUNTS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    responses.get(ACCOUNTS_URL, body=requests.exceptions.ConnectionError("reset"))
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    client.list_accounts(LOC)
    assert [c.status for c in recorder.calls] == [None, None, 200]
    assert [c.error for c in recorder.calls] == ["TransportError", "TransportError", ""]


@responses.activate
def test_a_429_with_retry_after_waits_that_long(client, clock):
    responses.get(ACCOUNTS_URL, status=429, json={"message": "Too many requests"}, headers={"Retry-After": "7"})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    start = clock.now
    client.list_accounts(LOC)
    assert clock.now - start >= 7
    assert len(responses.calls) == 2


@responses.activate
def test_a_429_without_retry_after_uses_the_rate_limit_headers(client, clock):
    responses.get(ACCOUNTS_URL, status=429, json={"message": "Too many requests"},
                  headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Interval-Milliseconds": "10000",
                           "X-RateLimit-Max": "100"})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    start = clock.now
    client.list_accounts(LOC)
    assert clock.now - start >= 10


@responses.activate
def test_a_bare_429_backs_off_and_retries(client, clock):
    responses.get(ACCOUNTS_URL, status=429, json={"message": "Too many requests"})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    client.list_accounts(LOC)
    assert len(responses.calls) == 2 and clock.sleeps


@responses.activate
def test_retries_are_bounded_by_max_retries(client, recorder):
    responses.get(ACCOUNTS_URL, status=500, json={"message": "boom"})
    with pytest.raises(errors.ServerError):
        client.list_accounts(LOC)
    assert len(responses.calls) == 4  # 1 + max_retries(3)
    assert [c.attempt for c in recorder.calls] == [1, 2, 3, 4]


@responses.activate
def test_retries_exhausted_on_timeouts_raise_transport_error(client):
    responses.get(ACCOUNTS_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(errors.TransportError) as info:
        client.list_accounts(LOC)
    assert info.value.status is None and info.value.retryable


@responses.activate
def test_a_daily_quota_429_is_not_retried(client):
    responses.get(ACCOUNTS_URL, status=429, json={"message": "quota"},
                  headers={"X-RateLimit-Daily-Remaining": "0", "X-RateLimit-Limit-Daily": "200000"})
    with pytest.raises(errors.QuotaExhausted):
        client.list_accounts(LOC)
    assert len(responses.calls) == 1
    # and the limiter now refuses to send anything for this bucket today
    with pytest.raises(errors.QuotaExhausted) as info:
        client.list_accounts(LOC)
    assert len(responses.calls) == 1
    assert info.value.endpoint == "/social-media-posting/{locationId}/accounts" and info.value.wait > 0


@responses.activate
def test_a_truncated_body_is_retried_then_reported_as_bad_response(client):
    responses.get(ACCOUNTS_URL, body='{"results": {"accounts": [', content_type="application/json")
    with pytest.raises(errors.BadResponse) as info:
        client.list_accounts(LOC)
    assert info.value.status == 200
    assert len(responses.calls) == 4


@responses.activate
def test_a_body_of_the_wrong_shape_is_bad_response_not_key_error(client):
    responses.get(ACCOUNTS_URL, json={"results": []})
    responses.get(ACCOUNTS_URL, json=["not", "an", "object"])
    responses.get(ACCOUNTS_URL, json={"nothing": True})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": "nope"}})
    with pytest.raises(errors.BadResponse):
        client.list_accounts(LOC)


# --- 401 -----------------------------------------------------------------------------------------------------
@responses.activate
def test_a_401_calls_the_hook_once_and_retries_once_with_a_fresh_token(make_client):
    tokens = iter(["old-token-aaaaaaaa", "new-token-bbbbbbbb"])
    current = {"token": next(tokens)}
    refreshed = []

    def refresh():
        refreshed.append(1)
        current["token"] = next(tokens)

    client = make_client(token=lambda: current["token"], on_unauthorized=refresh)
    responses.get(ACCOUNTS_URL, status=401, json={"statusCode": 401, "message": "Invalid token"})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    client.list_accounts(LOC)
    assert refreshed == [1]
    auths = [c.request.headers["Authorization"] for c in responses.calls]
    assert auths == ["Bearer old-token-aaaaaaaa", "Bearer new-token-bbbbbbbb"]


@responses.activate
def test_a_second_401_is_raised_without_another_refresh(make_client):
    refreshed = []
    client = make_client(on_unauthorized=lambda: refreshed.append(1))
    responses.get(ACCOUNTS_URL, status=401, json={"statusCode": 401, "message": "Invalid token"})
    with pytest.raises(errors.AuthenticationError):
        client.list_accounts(LOC)
    assert refreshed == [1] and len(responses.calls) == 2


@responses.activate
def test_a_401_without_a_hook_is_raised_at_once(client):
    responses.get(ACCOUNTS_URL, status=401, json={"statusCode": 401, "message": "Invalid token"})
    with pytest.raises(errors.AuthenticationError):
        client.list_accounts(LOC)
    assert len(responses.calls) == 1


# --- OAuth ---------------------------------------------------------------------------------------------------
GRANT = {
    "access_token": SECRET_TOKEN, "token_type": "Bearer", "expires_in": 86399,
    "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJyZWZyZXNoIjoxfQ.cmVmcmVzaC1zaWc", "scope": "socialplanner/tag.readonly "
    "socialplanner/account.readonly", "userType": "Location", "locationId": LOC, "companyId": "co1",
    "userId": "u1", "approvedLocations": [LOC], "isBulkInstallation": False, "planId": "p1",
}


@responses.activate
def test_exchange_code_posts_a_form_with_the_client_credentials(client):
    responses.post(TOKEN_URL, json=GRANT)
    grant = client.exchange_code("the-code", "https://app.test/cb", "Location")
    form = parse_qs(responses.calls[0].request.body)
    assert form == {"client_id": ["abc123-xyz789"], "client_secret": ["client-secret-value"],
                    "grant_type": ["authorization_code"], "code": ["the-code"], "user_type": ["Location"],
                    "redirect_uri": ["https://app.test/cb"]}
    assert responses.calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in responses.calls[0].request.headers
    assert grant.access_token == SECRET_TOKEN and grant.expires_in == 86399
    assert grant.scope == ("socialplanner/tag.readonly", "socialplanner/account.readonly")
    assert (grant.location_id, grant.company_id, grant.user_type) == (LOC, "co1", "Location")


def test_the_repr_of_a_token_grant_shows_no_token():
    from integrations.highlevel.parsing import parse_location_token, parse_token_grant

    grant = parse_token_grant(GRANT)
    text = repr(grant) + str(grant)
    assert SECRET_TOKEN not in text and GRANT["refresh_token"] not in text
    assert "Location" in text
    minted = parse_location_token({"access_token": SECRET_TOKEN, "locationId": LOC, "expires_in": 86399})
    assert SECRET_TOKEN not in repr(minted)


@responses.activate
def test_refresh_token_sends_the_refresh_grant(client):
    responses.post(TOKEN_URL, json=GRANT)
    grant = client.refresh_token("old-refresh-token", "Company")
    form = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["old-refresh-token"]
    assert form["user_type"] == ["Company"]
    assert grant.refresh_token == GRANT["refresh_token"]


@responses.activate
def test_invalid_grant_is_its_own_error_and_never_retried(client):
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "Invalid grant: "
                                               "refresh token is invalid"})
    with pytest.raises(errors.InvalidGrant) as info:
        client.refresh_token("spent-refresh-token")
    assert not info.value.retryable and len(responses.calls) == 1


@responses.activate
def test_a_refresh_that_may_have_reached_the_server_is_not_retried(client):
    # A refresh token is single use: a 5xx or a read timeout may hide a spent token, so no blind retry.
    responses.post(TOKEN_URL, status=502, json={"message": "bad gateway"})
    with pytest.raises(errors.ServerError):
        client.refresh_token("refresh-token-value")
    assert len(responses.calls) == 1


@responses.activate
def test_a_refresh_refused_with_429_is_retried(client):
    responses.post(TOKEN_URL, status=429, json={"message": "slow down"}, headers={"Retry-After": "1"})
    responses.post(TOKEN_URL, json=GRANT)
    assert client.refresh_token("refresh-token-value").access_token == SECRET_TOKEN


@responses.activate
def test_mint_location_token_uses_the_agency_token_and_a_form(client):
    responses.post(f"{BASE}/oauth/locationToken", json={"access_token": "loc-token-123456789", "token_type": "Bearer",
                                                        "expires_in": 86399, "scope": "socialplanner/tag.readonly",
                                                        "locationId": LOC, "companyId": "co1", "userType": "Location"})
    minted = client.mint_location_token("co1", LOC)
    request = responses.calls[0].request
    assert parse_qs(request.body) == {"companyId": ["co1"], "locationId": [LOC]}
    assert request.headers["Authorization"] == f"Bearer {SECRET_TOKEN}"
    assert request.headers["Version"] == "2021-07-28"
    assert minted.access_token == "loc-token-123456789" and minted.location_id == LOC


@responses.activate
def test_iter_installed_locations_pages_with_the_app_id(client):
    url = f"{BASE}/oauth/installedLocations"
    page = [{"_id": f"loc{i}", "name": f"L{i}", "address": "1 Road", "isInstalled": True,
             "installedAt": "2025-01-01T00:00:00.000Z"} for i in range(100)]
    responses.get(url, json={"locations": page, "count": 101})
    responses.get(url, json={"locations": [{"_id": "loc100", "name": "L100", "isInstalled": True}], "count": 101})
    locations = list(client.iter_installed_locations("co1"))
    assert len(locations) == 101 and locations[-1].id == "loc100"
    query = parse_qs(responses.calls[1].request.url.split("?")[1])
    assert query == {"companyId": ["co1"], "appId": ["abc123"], "isInstalled": ["true"], "skip": ["100"],
                     "limit": ["100"]}


def test_oauth_needs_client_credentials(make_client):
    with pytest.raises(errors.NotConfigured):
        make_client(client_secret="").refresh_token("x")


# --- recording -----------------------------------------------------------------------------------------------
@responses.activate
def test_every_attempt_is_recorded_without_secrets(client, recorder):
    responses.get(ACCOUNTS_URL, status=500, json={"message": "boom"}, headers={"X-RateLimit-Remaining": "98"})
    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}, "traceId": "tr-9"},
                  headers={"X-RateLimit-Remaining": "97", "X-RateLimit-Daily-Remaining": "199000",
                           "X-RateLimit-Limit-Daily": "200000"})
    client.list_accounts(LOC)
    first, second = recorder.calls
    assert (first.method, first.endpoint, first.resource_id) == ("GET", "/social-media-posting/{locationId}/accounts",
                                                                  LOC)
    assert (first.status, first.error, first.rate_limit_remaining) == (500, "ServerError", 98)
    assert (second.trace_id, second.daily_remaining, second.daily_limit) == ("tr-9", 199000, 200000)
    assert (second.connection_id, second.run_id) == (42, 9)
    assert SECRET_TOKEN not in json.dumps([c.__dict__ for c in recorder.calls], default=str)


@responses.activate
def test_a_broken_recorder_never_fails_the_request(make_client):
    class Broken:
        def record(self, call):
            raise RuntimeError("disk full")

    responses.get(ACCOUNTS_URL, json={"results": {"accounts": [], "groups": []}})
    assert make_client(recorder=Broken()).list_accounts(LOC).accounts == ()


@responses.activate
def test_a_parser_blind_spot_still_surfaces_as_bad_response(make_client):
    def broken_parse(body):
        return body["results"]["nope"]  # KeyError

    client = make_client(max_retries=0)
    responses.get(ACCOUNTS_URL, json={"results": {}})
    with pytest.raises(errors.BadResponse, match="KeyError"):
        client._call("GET", "/social-media-posting/{locationId}/accounts", location_id=LOC, resource_id=LOC,
                     parse=broken_parse)


@responses.activate
@pytest.mark.parametrize("method,query,json_body,form", [
    ("GET", {"skip": "0", "limit": "100", "searchText": "spring sale & more"}, None, None),
    ("POST", {"locationId": LOC}, {"profileIds": ["p1", "é"], "currentRange": {"startDate": "2025-03-01"}}, None),
    ("POST", None, None, {"grant_type": "refresh_token", "refresh_token": "a b+c"}),
    ("POST", None, None, None),
])
def test_a_request_is_sent_exactly_as_requests_would_prepare_it(client, method, query, json_body, form):
    url = f"{BASE}/any/path"
    responses.add(method, url, json={})
    headers = {"Version": "2021-07-28"}
    client._send(method, url, headers, query=query, json_body=json_body, form=form)
    sent = responses.calls[0].request
    expected = client.session.prepare_request(
        requests.Request(method, url, params=query, json=json_body, data=form, headers=headers))
    assert (sent.method, sent.url, sent.body) == (expected.method, expected.url, expected.body)
    assert dict(sent.headers) == dict(expected.headers)
