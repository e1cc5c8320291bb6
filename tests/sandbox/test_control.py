"""Control API mutations show through the HighLevel routes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests

from sandbox.state import Clock

from .helpers import location_pit


def listing(sandbox, location_id, token):
    found = []
    for skip in range(0, 1000, 100):
        page = sandbox.api("GET", f"/social-media-posting/{location_id}/tags", token,
                           params={"skip": str(skip), "limit": "100"}).json()["results"]["tags"]
        found += page
        if len(page) < 100:
            return {t["_id"]: t for t in found}
    raise AssertionError("listing never ended")


def details(sandbox, location_id, token, tag_id):
    answer = sandbox.api("POST", f"/social-media-posting/{location_id}/tags/details", token, json={"tagIds": [tag_id]})
    return answer.json()["results"]["tags"]


def test_added_renamed_and_deleted_tags_show_in_listings_and_details(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.set_now("2026-05-01T10:00:00.000Z")
    added = sandbox.add_tag(location_id, "Launch Party")
    assert added["createdAt"].startswith("2026-05-01T10:00")
    assert added["deleted"] is False
    assert listing(sandbox, location_id, pit)[added["_id"]]["tag"] == "Launch Party"
    assert len(listing(sandbox, location_id, pit)) == 121

    sandbox.advance(3600)
    renamed = sandbox.rename_tag(location_id, added["_id"], "Launch Party 2026")
    assert renamed["updatedAt"] > added["updatedAt"]
    assert details(sandbox, location_id, pit, added["_id"])[0]["tag"] == "Launch Party 2026"

    sandbox.delete_tag(location_id, added["_id"])
    assert listing(sandbox, location_id, pit)[added["_id"]]["deleted"] is True
    assert details(sandbox, location_id, pit, added["_id"])[0]["deleted"] is True

    sandbox.delete_tag(location_id, added["_id"], hard=True)
    assert added["_id"] not in listing(sandbox, location_id, pit)
    assert details(sandbox, location_id, pit, added["_id"]) == []
    assert listing(sandbox, location_id, pit) == {t["_id"]: t for t in sandbox.tags(location_id)}


def test_unknown_locations_and_tags_are_404(sandbox):
    location_id, _ = location_pit(sandbox)
    assert sandbox.http.get(f"{sandbox.url}/_sandbox/locations/nope/tags").status_code == 404
    assert sandbox.http.patch(f"{sandbox.url}/_sandbox/locations/{location_id}/tags/nope",
                              json={"tag": "x"}).status_code == 404
    assert sandbox.http.get(f"{sandbox.url}/_sandbox/nothing").status_code == 404


def test_expiring_tokens_forces_a_refresh_but_private_tokens_never_expire(sandbox):
    location_id, pit = location_pit(sandbox)
    tokens = sandbox.oauth_tokens(f"location:{location_id}")
    path = f"/social-media-posting/{location_id}/accounts"
    assert sandbox.expire_tokens(location_id=location_id) == 1
    assert sandbox.api("GET", path, tokens["access_token"]).status_code == 401
    assert sandbox.api("GET", path, pit).status_code == 200
    fresh = sandbox.exchange(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert sandbox.api("GET", path, fresh.json()["access_token"]).status_code == 200


def test_revoking_tokens_spends_refresh_tokens_too(sandbox):
    location_id, _ = location_pit(sandbox)
    tokens = sandbox.oauth_tokens(f"location:{location_id}")
    sandbox.revoke_tokens(location_id=location_id)
    path = f"/social-media-posting/{location_id}/accounts"
    assert sandbox.api("GET", path, tokens["access_token"]).status_code == 401
    answer = sandbox.exchange(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_revoking_a_company_covers_its_agency_and_minted_tokens(sandbox):
    agency = sandbox.state()["agencies"][0]
    tokens = sandbox.oauth_tokens(f"company:{agency['id']}")
    assert sandbox.revoke_tokens(company_id=agency["id"]) >= 2
    minted = sandbox.api("POST", "/oauth/locationToken", tokens["access_token"],
                         data={"companyId": agency["id"], "locationId": agency["locationIds"][0]})
    assert minted.status_code == 401
    assert sandbox.revoke_tokens(all=True) > 0
    assert sandbox.http.post(f"{sandbox.url}/_sandbox/tokens/revoke", json={}).status_code == 400


def test_uninstalling_a_location_invalidates_its_oauth_tokens(sandbox):
    location_id, _ = location_pit(sandbox)
    tokens = sandbox.oauth_tokens(f"location:{location_id}")
    assert sandbox.uninstall(location_id) == [location_id]
    assert sandbox.api("GET", f"/social-media-posting/{location_id}/tags", tokens["access_token"]).status_code == 401
    located = {loc["id"]: loc for loc in sandbox.state()["locations"]}
    assert located[location_id]["installedAt"] is None
    sandbox.install(location_id)
    assert sandbox.state()["locations"][0]["installedAt"]


def test_the_clock_can_be_set_and_advanced(sandbox):
    assert sandbox.set_now("2026-01-01T00:00:00Z")["now"].startswith("2026-01-01T00:00:0")
    assert sandbox.advance(86400 * 2)["today"] == "2026-01-03"
    assert sandbox.http.post(f"{sandbox.url}/_sandbox/clock", json={"now": "soon"}).status_code == 400


def test_a_frozen_clock_holds_still_and_ticks_on_from_there_when_thawed():
    ticks = [100.0]
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC), ticker=lambda: ticks[0])
    ticks[0] += 5
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    clock.freeze(True)
    ticks[0] += 60
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    clock.advance(10)  # set and advance still move a frozen clock, which then holds there
    ticks[0] += 60
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 15, tzinfo=UTC)
    clock.freeze(False)
    ticks[0] += 3
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 18, tzinfo=UTC)


def test_the_clock_can_be_frozen_over_http_and_refuses_a_frozen_that_is_not_a_boolean(sandbox):
    assert sandbox.clock()["frozen"] is False
    assert sandbox.freeze()["frozen"] is True
    answer = sandbox.set_now("2026-01-01T00:00:00Z")
    assert answer["now"] == "2026-01-01T00:00:00.000Z" == sandbox.clock()["now"]
    refused = sandbox.http.post(f"{sandbox.url}/_sandbox/clock", json={"frozen": "yes", "advance_seconds": 60})
    assert refused.status_code == 400 and "frozen" in refused.json()["error"]
    assert sandbox.clock()["now"] == "2026-01-01T00:00:00.000Z"  # the refused call changed nothing
    assert sandbox.freeze(False)["frozen"] is False


def test_stats_count_requests_per_endpoint_and_reset(sandbox):
    location_id, pit = location_pit(sandbox)
    for _ in range(3):
        sandbox.api("GET", f"/social-media-posting/{location_id}/tags", pit)
    sandbox.api("GET", f"/social-media-posting/{location_id}/accounts", pit)
    stats = sandbox.stats()
    assert stats["requests"]["total"] == 4
    assert stats["requests"]["by_endpoint"]["GET /social-media-posting/{locationId}/tags"] == 3
    assert stats["resources"][location_id]["count"] == 4
    assert stats["resources"][location_id]["max_burst"] == 4
    sandbox.reset_stats()
    assert sandbox.stats()["requests"]["total"] == 0


def test_state_describes_the_world(sandbox):
    state = sandbox.state()
    assert state["client_id"] == "tagscope-sandbox"
    assert state["client_secret"] == "sandbox-secret"
    assert state["app_id"] == "tagscope"
    assert len(state["locations"]) == 3
    assert state["webhook_public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert state["webhook_legacy_public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert set(state["private_integration_tokens"]) == {loc["id"] for loc in state["locations"]} | {
        a["id"] for a in state["agencies"]}
    for location in state["locations"]:
        assert {"id", "name", "companyId", "timezone", "address", "pit"} <= set(location)


def test_a_bad_reset_config_is_refused(sandbox):
    answer = sandbox.http.post(f"{sandbox.url}/_sandbox/reset", json={"config": {"colour": "blue"}})
    assert answer.status_code == 400
    assert "colour" in answer.json()["error"]


def test_many_concurrent_clients_are_served(sandbox):
    state = sandbox.state()

    def work(index):
        location = state["locations"][index % len(state["locations"])]
        with requests.Session() as http:
            statuses = []
            for _ in range(5):
                answer = http.get(f"{sandbox.url}/social-media-posting/{location['id']}/tags",
                                  headers={"Authorization": f"Bearer {location['pit']}", "Version": "2021-07-28"})
                statuses.append(answer.status_code)
            sandbox_tag = sandbox.add_tag(location["id"], f"Concurrent {index}")
            return statuses, sandbox_tag["_id"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(32)))
    assert all(status == 200 for statuses, _ in results for status in statuses)
    assert len({tag_id for _, tag_id in results}) == 32
    assert sandbox.stats()["requests"]["total"] == 160
    assert sum(len(sandbox.tags(loc["id"])) for loc in state["locations"]) == 3 * 120 + 32


def test_a_bad_reset_leaves_the_world_as_it_was(sandbox):
    before = sandbox.state()
    answer = sandbox.http.post(f"{sandbox.url}/_sandbox/reset", json={"config": {"seed": 9, "now": "not a date"}})
    assert answer.status_code == 400
    after = sandbox.state()
    assert after["config"] == before["config"]
    assert after["locations"] == before["locations"]
