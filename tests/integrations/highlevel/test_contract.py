"""Contract tests: the real client over real HTTP against the live sandbox (tests/fixtures/sandbox.py).

They assert the shapes both sides agree on, and that the client survives injected faults (5xx bursts,
429 storms, timeouts, malformed and truncated bodies) without losing or duplicating a tag. Rate limits
are scaled down (a short window) so waits stay short; sleeping here is real.
"""

from __future__ import annotations

import dataclasses
import random
import time
from datetime import timedelta

import pytest

from integrations.clients.limiter_db import DatabaseRateLimiter
from integrations.highlevel import errors
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.config import ClientConfig
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
from integrations.highlevel.recording import MemoryRecorder

CONFIG_FIELDS = {field.name for field in dataclasses.fields(ClientConfig)}

BURST = 20
WINDOW_MS = 1000


@pytest.fixture
def world(sandbox):
    """The sandbox with a short rate-limit window; answers its state."""
    return sandbox.reset(burst_limit=BURST, burst_window_ms=WINDOW_MS)


@pytest.fixture
def make_client(sandbox, world):
    made: list[HighLevelClient] = []

    def make(token: str | None = None, **kwargs) -> HighLevelClient:
        config = ClientConfig(base_url=sandbox.url, client_id=world["client_id"],
                              client_secret=world["client_secret"], timeout=(2.0, 2.0), max_retries=8)
        config = config.replace(**{name: kwargs.pop(name) for name in CONFIG_FIELDS & kwargs.keys()})
        options = {
            "token": (lambda: token) if token else None,
            "limiter": MemoryRateLimiter(limit=BURST, window=WINDOW_MS / 1000, margin=0.05),
            "recorder": MemoryRecorder(),
            "rng": random.Random(0),
        }
        options.update(kwargs)
        client = HighLevelClient(config, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.session.close()


@pytest.fixture
def location(world):
    return world["locations"][0]["id"]


@pytest.fixture
def client(make_client, world, location):
    return make_client(world["private_integration_tokens"][location])


def truth(sandbox, location_id: str) -> dict[str, dict]:
    return {t["_id"]: t for t in sandbox.tags(location_id)}


# --- shapes -------------------------------------------------------------------------------------------------
def test_tags_list_matches_the_sandbox_exactly(sandbox, client, location):
    expected = truth(sandbox, location)
    listed = list(client.iter_tags(location))
    assert len(expected) > 100  # more than one page
    assert [t.id for t in listed] == list(expected)  # each once, in the server's order
    for tag in listed:
        raw = expected[tag.id]
        assert (tag.name, tag.location_id, tag.deleted, tag.created_by) == (
            raw["tag"], location, raw["deleted"], raw["createdBy"])
        assert tag.created_at is not None and tag.created_at.tzinfo is not None


def test_search_text_filters_tags(sandbox, client, location):
    some = next(iter(truth(sandbox, location).values()))
    needle = some["tag"][:4].lower()
    found = list(client.iter_tags(location, search=needle))
    assert some["_id"] in {t.id for t in found}
    assert all(needle in t.name.lower() for t in found)


def test_added_and_deleted_tags_show_up(sandbox, client, location):
    added = sandbox.add_tag(location, "Contract test tag")
    victim = next(iter(truth(sandbox, location)))
    sandbox.delete_tag(location, victim)
    listed = {t.id: t for t in client.iter_tags(location)}
    assert listed[added["_id"]].name == "Contract test tag"
    assert listed[victim].deleted is True


def test_tag_details_answer_known_ids_only(sandbox, client, location):
    ids = list(truth(sandbox, location))[:73]
    details = client.get_tag_details(location, [*ids, "000000000000000000000000"])
    assert sorted(t.id for t in details) == sorted(ids)
    assert sandbox.stats()["requests"]["by_endpoint"]["POST /social-media-posting/{locationId}/tags/details"] == 2


def test_accounts_and_groups(client, location):
    listing = client.list_accounts(location)
    assert listing.accounts and not listing.problems
    ids = {a.id for a in listing.accounts}
    for account in listing.accounts:
        assert account.platform in {"facebook", "instagram", "linkedin", "google", "tiktok", "youtube",
                                    "pinterest", "twitter"}
        assert account.profile_id
    for group in listing.groups:
        assert set(group.account_ids) <= ids


def test_a_location_s_details_match_the_sandbox(client, location, world):
    expected = next(loc for loc in world["locations"] if loc["id"] == location)
    info = client.get_location(location)
    assert (info.id, info.name, info.timezone, info.company_id) == (
        location, expected["name"], expected["timezone"], expected["companyId"])
    assert info.one_line_address == f"{expected['address']}, US"


def test_a_location_token_without_locations_readonly_is_a_scope_error(sandbox, make_client, location):
    code = sandbox.authorize(f"location:{location}", scope="socialplanner/tag.readonly")["code"]
    grant = make_client().exchange_code(code, "http://localhost/cb")
    with pytest.raises(errors.ScopeError):
        make_client(grant.access_token).get_location(location)

def test_statistics_give_daily_series_per_platform(client, location, world):
    accounts = client.list_accounts(location).accounts
    profiles = [a.profile_id for a in accounts if a.platform != "twitter"]
    (stats,) = client.get_statistics(location, profiles)
    assert len(stats.day_range) == 7  # no range: the last 7 days
    assert stats.trace_id
    assert stats.platforms
    for platform in stats.platforms:
        for metric in stats.metrics:
            series = stats.daily(platform, metric)
            assert series is None or len(series) == len(stats.day_range)


def test_statistics_over_a_range_and_in_chunks(client, location, sandbox):
    from integrations.highlevel.parsing import parse_datetime

    today = parse_datetime(sandbox.clock()["now"]).date()
    accounts = client.list_accounts(location).accounts
    profiles = [a.profile_id for a in accounts] + [f"unknown-{i}" for i in range(120)]
    answers = client.get_statistics(
        location, profiles, current_range=(today - timedelta(days=14), today - timedelta(days=1)),
        previous_range=(today - timedelta(days=28), today - timedelta(days=15)),
    )
    assert len(answers) == 2
    assert len(answers[0].day_range) == 14
    assert all(a.answers_asked_days for a in answers)


def test_under_2021_07_28_a_range_is_ignored_and_the_answer_says_so(client, location, sandbox):
    from integrations.highlevel.parsing import parse_datetime

    today = parse_datetime(sandbox.clock()["now"]).date()
    profiles = [a.profile_id for a in client.list_accounts(location).accounts]
    asked = (today - timedelta(days=40), today - timedelta(days=30))
    (legacy,) = client.get_statistics(location, profiles, current_range=asked, version="2021-07-28")
    (v3,) = client.get_statistics(location, profiles, current_range=asked)
    assert len(legacy.day_range) == 7 and not legacy.answers_asked_days
    assert len(v3.day_range) == 11 and v3.answers_asked_days


def test_posts_carry_tag_and_account_ids(sandbox, client, location):
    from integrations.highlevel.parsing import parse_datetime

    today = parse_datetime(sandbox.clock()["now"]).date()
    posts = list(client.iter_posts(location, today - timedelta(days=60), today + timedelta(days=30)))
    assert posts and len({p.id for p in posts}) == len(posts)
    tag_ids = set(truth(sandbox, location))
    assert any(p.tag_ids for p in posts)
    assert all(set(p.tag_ids) <= tag_ids for p in posts)
    assert all(p.account_ids for p in posts)


# --- errors -------------------------------------------------------------------------------------------------
def test_a_bad_token_is_an_authentication_error(make_client, location):
    with pytest.raises(errors.AuthenticationError) as info:
        make_client("not-a-real-token").list_accounts(location)
    assert info.value.status == 401 and info.value.trace_id


def test_another_locations_token_is_a_scope_error(make_client, world):
    first, second = world["locations"][0]["id"], world["locations"][1]["id"]
    with pytest.raises(errors.ScopeError):
        make_client(world["private_integration_tokens"][second]).list_accounts(first)


# --- OAuth --------------------------------------------------------------------------------------------------
def test_code_exchange_and_rotating_refresh(sandbox, make_client, location):
    app = make_client()
    code = sandbox.authorize(f"location:{location}", redirect_uri="http://localhost/cb")["code"]
    grant = app.exchange_code(code, "http://localhost/cb", "Location")
    assert grant.location_id == location and grant.user_type == "Location" and grant.refresh_token
    assert "socialplanner/tag.readonly" in grant.scope
    assert grant.access_token not in repr(grant)
    renewed = app.refresh_token(grant.refresh_token, "Location")
    assert renewed.refresh_token != grant.refresh_token
    with pytest.raises(errors.InvalidGrant):
        app.refresh_token(grant.refresh_token, "Location")  # spent
    with pytest.raises(errors.InvalidGrant):
        app.exchange_code(code, "http://localhost/cb", "Location")  # codes are single use
    assert list(make_client(renewed.access_token).iter_tags(location))


def test_a_401_refreshes_once_and_carries_on(sandbox, make_client, location):
    app = make_client()
    code = sandbox.authorize(f"location:{location}")["code"]
    held = {"grant": app.exchange_code(code, "http://localhost/cb")}
    refreshes = []

    def refresh():
        refreshes.append(1)
        held["grant"] = app.refresh_token(held["grant"].refresh_token)

    client = make_client(token=None, on_unauthorized=refresh)
    client._token = lambda: held["grant"].access_token
    sandbox.expire_tokens(token=held["grant"].access_token)
    assert client.list_accounts(location).accounts
    assert refreshes == [1]


def test_agency_install_mints_location_tokens_and_lists_installed_locations(sandbox, make_client, world):
    agency = world["agencies"][0]
    app = make_client()
    code = sandbox.authorize(f"company:{agency['id']}",
                             scope="oauth.readonly oauth.write locations.readonly "
                                   "socialplanner/tag.readonly")["code"]
    grant = app.exchange_code(code, "http://localhost/cb", "Company")
    assert grant.user_type == "Company" and grant.company_id == agency["id"]
    agency_client = make_client(grant.access_token)
    installed = list(agency_client.iter_installed_locations(agency["id"]))
    assert {loc.id for loc in installed} == set(agency["locationIds"])
    minted = agency_client.mint_location_token(agency["id"], installed[0].id)
    assert minted.location_id == installed[0].id
    assert list(make_client(minted.access_token).iter_tags(installed[0].id))


# --- faults -------------------------------------------------------------------------------------------------
def assert_listing_intact(sandbox, client, location):
    listed = [t.id for t in client.iter_tags(location)]
    assert listed == list(truth(sandbox, location))  # nothing lost, nothing twice


def test_it_survives_a_burst_of_server_errors(sandbox, client, location):
    sandbox.add_fault(error_burst=4, error_status=502, path="/tags")
    assert_listing_intact(sandbox, client, location)
    assert sandbox.stats()["faults_injected"]["error"] == 4


def test_it_survives_a_429_storm(sandbox, client, location):
    sandbox.add_fault(rate_limit_storm=3, path="/tags")
    assert_listing_intact(sandbox, client, location)
    stats = sandbox.stats()
    assert stats["faults_injected"]["rate_limit"] == 3
    assert stats["rate_limited"] == 3  # the storm only: the client itself never earned a 429


def test_it_survives_timeouts(sandbox, make_client, world, location):
    client = make_client(world["private_integration_tokens"][location], timeout=(2.0, 0.3))
    sandbox.add_fault(timeout_burst=2, hang_seconds=0.6, path="/tags")
    assert_listing_intact(sandbox, client, location)
    assert sum(1 for c in client.recorder.calls if c.error == "TransportError") == 2


def test_it_survives_malformed_and_truncated_bodies(sandbox, client, location):
    sandbox.add_fault(malformed_rate=0.3, truncated_rate=0.3, path="/tags", seed=5)
    for _ in range(3):
        assert_listing_intact(sandbox, client, location)
    injected = sandbox.stats()["faults_injected"]
    assert injected.get("malformed", 0) + injected.get("truncated", 0) > 0
    assert {c.error for c in client.recorder.calls} <= {"", "BadResponse"}


def test_a_fault_that_never_ends_is_raised_not_swallowed(sandbox, make_client, world, location):
    client = make_client(world["private_integration_tokens"][location], max_retries=2)
    sandbox.add_fault(malformed_rate=1.0, path="/tags")
    with pytest.raises(errors.BadResponse):
        list(client.iter_tags(location))


# --- rate limits --------------------------------------------------------------------------------------------
def test_at_full_speed_the_client_never_earns_a_429(sandbox, client, location):
    started = time.monotonic()
    for _ in range(3 * BURST):
        client.list_accounts(location)
    elapsed = time.monotonic() - started
    stats = sandbox.stats()
    resource = stats["resources"][location]
    assert resource["count"] == 3 * BURST
    assert resource["max_burst"] <= BURST
    assert stats["rate_limited"] == 0
    assert elapsed >= 2 * WINDOW_MS / 1000  # it waited for the window instead


@pytest.mark.django_db(transaction=True)
def test_two_clients_sharing_the_database_limiter_stay_under_the_limit(sandbox, make_client, world, location):
    import threading

    from django.db import connection

    token = world["private_integration_tokens"][location]
    failures: list[BaseException] = []

    def worker():
        client = make_client(token, limiter=DatabaseRateLimiter(limit=BURST, window=WINDOW_MS / 1000, margin=0.05))
        try:
            for _ in range(BURST):
                client.list_accounts(location)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    stats = sandbox.stats()
    # A loaded machine may time out and retry a request: more calls, never more than the limit per window.
    assert stats["resources"][location]["count"] >= 3 * BURST
    assert stats["resources"][location]["max_burst"] <= BURST
    assert stats["rate_limited"] == 0
