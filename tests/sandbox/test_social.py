"""Social Planner routes: shapes, paging, statuses, and the checks every route makes."""

from __future__ import annotations

from .helpers import location_pit

RATE_HEADERS = ("X-RateLimit-Limit-Daily", "X-RateLimit-Daily-Remaining", "X-RateLimit-Interval-Milliseconds",
                "X-RateLimit-Max", "X-RateLimit-Remaining")


def test_tags_list_with_paging_count_and_headers(sandbox):
    location_id, pit = location_pit(sandbox)
    answer = sandbox.api("GET", f"/social-media-posting/{location_id}/tags", pit, params={"limit": "50", "skip": "0"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["success"], body["statusCode"], body["message"]) == (True, 200, "Fetched Tags by Location ID")
    assert body["results"]["count"] == 120
    assert len(body["results"]["tags"]) == 50
    assert answer.headers["X-Trace-Id"]
    for header in RATE_HEADERS:
        assert answer.headers[header].isdigit()
    seen = []
    for skip in range(0, 200, 50):
        page = sandbox.api("GET", f"/social-media-posting/{location_id}/tags", pit,
                           params={"limit": "50", "skip": str(skip)}).json()["results"]["tags"]
        seen += page
    assert [t["_id"] for t in seen] == [t["_id"] for t in sandbox.tags(location_id)]
    assert any(t["deleted"] for t in seen)


def test_tags_limit_defaults_to_and_is_clamped_at_100(sandbox):
    location_id, pit = location_pit(sandbox)
    path = f"/social-media-posting/{location_id}/tags"
    assert len(sandbox.api("GET", path, pit).json()["results"]["tags"]) == 100
    assert len(sandbox.api("GET", path, pit, params={"limit": "1000"}).json()["results"]["tags"]) == 100
    bad = sandbox.api("GET", path, pit, params={"limit": "ten"})
    assert bad.status_code == 422
    assert bad.json() == {"statusCode": 422, "message": ["limit must be a number string"],
                          "error": "Unprocessable Entity"}


def test_tags_search_is_a_case_insensitive_substring_match(sandbox):
    location_id, pit = location_pit(sandbox)
    name = sandbox.tags(location_id)[5]["tag"]
    needle = name.split()[0].lower()
    body = sandbox.api("GET", f"/social-media-posting/{location_id}/tags", pit,
                       params={"searchText": needle}).json()
    expected = [t for t in sandbox.tags(location_id) if needle in t["tag"].lower()]
    assert body["results"]["count"] == len(expected)
    assert all(needle in t["tag"].lower() for t in body["results"]["tags"])


def test_tag_details_answer_201_and_leave_unknown_ids_out(sandbox):
    location_id, pit = location_pit(sandbox)
    truth = sandbox.tags(location_id)
    ids = [truth[0]["_id"], "ffffffffffffffffffffffff", truth[3]["_id"]]
    answer = sandbox.api("POST", f"/social-media-posting/{location_id}/tags/details", pit, json={"tagIds": ids})
    assert answer.status_code == 201
    body = answer.json()
    assert (body["statusCode"], body["message"]) == (201, "Fetched Tags by Tag IDs")
    assert [t["_id"] for t in body["results"]["tags"]] == [truth[0]["_id"], truth[3]["_id"]]
    assert body["results"]["tags"][0] == truth[0]
    bad = sandbox.api("POST", f"/social-media-posting/{location_id}/tags/details", pit, json={"tagIds": "x"})
    assert bad.status_code == 422


def test_accounts_and_groups(sandbox):
    location_id, pit = location_pit(sandbox)
    body = sandbox.api("GET", f"/social-media-posting/{location_id}/accounts", pit).json()
    assert body["message"] == "Fetched Accounts"
    accounts = body["results"]["accounts"]
    assert 3 <= len(accounts) <= 6
    assert all(a["platform"] in {"facebook", "instagram", "linkedin", "google", "tiktok", "youtube", "pinterest"}
               for a in accounts)
    for group in body["results"]["groups"]:
        assert set(group["accountIds"]) <= {a["id"] for a in accounts}


def test_posts_list_filters_and_pages(sandbox):
    location_id, pit = location_pit(sandbox)
    path = f"/social-media-posting/{location_id}/posts/list"
    window = {"fromDate": "2000-01-01T00:00:00.000Z", "toDate": "2100-01-01T00:00:00.000Z"}
    everything = sandbox.api("POST", path, pit, json={**window, "skip": "0", "limit": "5", "includeUsers": "true"})
    assert everything.status_code == 200
    body = everything.json()
    assert (body["success"], body["statusCode"]) == (True, 200)
    assert len(body["results"]["posts"]) == 5
    assert body["results"]["count"] > 100
    post = body["results"]["posts"][0]
    assert {"_id", "accountId", "platform", "status", "tags", "scheduleDate", "user"} <= set(post)
    failed = sandbox.api("POST", path, pit, json={**window, "type": "failed", "limit": "100"}).json()["results"]
    assert failed["count"] > 0 and all(p["status"] == "failed" for p in failed["posts"])
    account_id = post["accountId"]
    mine = sandbox.api("POST", path, pit, json={**window, "accounts": account_id, "limit": "100"}).json()["results"]
    assert all(p["accountId"] == account_id for p in mine["posts"])
    narrow = {"fromDate": post["scheduleDate"], "toDate": post["scheduleDate"]}
    assert post["_id"] in [p["_id"] for p in sandbox.api("POST", path, pit, json=narrow).json()["results"]["posts"]]
    assert sandbox.api("POST", path, pit, json={"limit": "5"}).status_code == 422


def test_unknown_routes_answer_404_in_highlevel_shape(sandbox):
    location_id, pit = location_pit(sandbox)
    answer = sandbox.api("GET", f"/social-media-posting/{location_id}/nope", pit)
    assert answer.status_code == 404
    assert answer.json() == {"statusCode": 404, "message": f"Cannot GET /social-media-posting/{location_id}/nope",
                             "error": "Not Found"}


def test_a_missing_unknown_or_revoked_token_is_401(sandbox):
    location_id, pit = location_pit(sandbox)
    path = f"/social-media-posting/{location_id}/tags"
    assert sandbox.api("GET", path).status_code == 401
    assert sandbox.api("GET", path, "pit-not-a-real-one").status_code == 401
    sandbox.revoke_tokens(token=pit)
    answer = sandbox.api("GET", path, pit)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Invalid token: access token is invalid"


def test_a_missing_version_header_is_400(sandbox):
    location_id, pit = location_pit(sandbox)
    answer = sandbox.api("GET", f"/social-media-posting/{location_id}/tags", pit, version=None)
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400


def test_a_token_reaches_only_its_own_location(sandbox):
    state = sandbox.state()
    mine, other = state["locations"][0], state["locations"][1]
    answer = sandbox.api("GET", f"/social-media-posting/{other['id']}/tags", mine["pit"])
    assert answer.status_code == 403
    assert answer.json()["error"] == "Forbidden"
    stats = sandbox.api("POST", "/social-media-posting/statistics", mine["pit"],
                        params={"locationId": other["id"]}, json={"profileIds": ["1"]})
    assert stats.status_code == 403


def test_an_agency_pit_cannot_call_social_planner_routes(sandbox):
    state = sandbox.state()
    agency_pit = state["agencies"][0]["pit"]
    answer = sandbox.api("GET", f"/social-media-posting/{state['locations'][0]['id']}/accounts", agency_pit)
    assert answer.status_code == 403


def test_each_route_checks_its_scope(sandbox):
    location_id = sandbox.state()["locations"][0]["id"]
    tokens = sandbox.oauth_tokens(f"location:{location_id}", scope="socialplanner/tag.readonly")
    token = tokens["access_token"]
    assert sandbox.api("GET", f"/social-media-posting/{location_id}/tags", token).status_code == 200
    refused = [
        sandbox.api("GET", f"/social-media-posting/{location_id}/accounts", token),
        sandbox.api("POST", f"/social-media-posting/{location_id}/posts/list", token,
                    json={"fromDate": "2020-01-01", "toDate": "2030-01-01"}),
        sandbox.api("POST", "/social-media-posting/statistics", token, params={"locationId": location_id},
                    json={"profileIds": ["1"]}),
    ]
    for answer in refused:
        assert answer.status_code == 403
        assert answer.json() == {"statusCode": 403, "message": "The token is not authorized for this scope.",
                                 "error": "Forbidden"}
