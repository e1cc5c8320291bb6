"""Pagination and batching: tags, tag details, posts. An incomplete listing must never look complete."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from integrations.highlevel import errors
from tests.integrations.highlevel.test_client import (  # noqa: F401  (fixtures)
    BASE,
    LOC,
    TAGS_URL,
    clock,
    make_client,
    recorder,
    tag,
    tags_body,
)

DETAILS_URL = f"{BASE}/social-media-posting/{LOC}/tags/details"
POSTS_URL = f"{BASE}/social-media-posting/{LOC}/posts/list"


@pytest.fixture
def client(make_client):  # noqa: F811
    return make_client(max_retries=2)


def serve_tags(all_tags: list[dict], *, ignore_skip: bool = False):
    """A fake server that pages `all_tags` by skip/limit (or ignores skip, like a broken server)."""

    def callback(request):
        query = parse_qs(urlparse(request.url).query)
        skip = 0 if ignore_skip else int(query.get("skip", ["0"])[0])
        limit = int(query["limit"][0])
        return 200, {}, json.dumps(tags_body(all_tags[skip : skip + limit]))

    responses.add_callback(responses.GET, TAGS_URL, callback=callback)


def skips() -> list[int]:
    return [int(parse_qs(urlparse(c.request.url).query)["skip"][0]) for c in responses.calls]


@responses.activate
def test_an_empty_location_lists_nothing_in_one_request(client):
    serve_tags([])
    assert list(client.iter_tags(LOC)) == []
    assert skips() == [0]


@responses.activate
def test_it_stops_on_a_short_page(client):
    serve_tags([tag(i) for i in range(250)])
    ids = [t.id for t in client.iter_tags(LOC)]
    assert len(ids) == 250 == len(set(ids))
    assert skips() == [0, 100, 200]


@responses.activate
def test_an_exact_multiple_of_the_page_size_ends_with_an_empty_page(client):
    serve_tags([tag(i) for i in range(200)])
    assert len(list(client.iter_tags(LOC))) == 200
    assert skips() == [0, 100, 200]


@responses.activate
def test_a_server_that_ignores_skip_raises_instead_of_looping(client):
    serve_tags([tag(i) for i in range(150)], ignore_skip=True)
    seen = []
    with pytest.raises(errors.BadResponse, match="ignore 'skip'"):
        for t in client.iter_tags(LOC):
            seen.append(t.id)
    assert len(seen) == 100  # each tag once, and then the listing is refused as incomplete
    assert skips() == [0, 100]


@responses.activate
def test_a_tag_repeated_across_pages_is_yielded_once(client):
    first = [tag(i) for i in range(100)]
    second = [tag(99), *[tag(i) for i in range(100, 130)]]  # a tag inserted before page two shifts it by one
    responses.get(TAGS_URL, json=tags_body(first))
    responses.get(TAGS_URL, json=tags_body(second))
    ids = [t.id for t in client.iter_tags(LOC)]
    assert len(ids) == 130 == len(set(ids))


@responses.activate
def test_a_malformed_tag_is_reported_after_the_good_ones(client):
    broken = [tag(1), {"tag": "no id", "locationId": LOC}, tag(2), {"_id": "t9", "tag": "x", "createdAt": "garbage"}]
    responses.get(TAGS_URL, json=tags_body(broken))
    seen = []
    with pytest.raises(errors.BadResponse) as info:
        for t in client.iter_tags(LOC):
            seen.append(t.id)
    assert seen == ["t0001", "t0002"]
    assert len(info.value.problems) == 2
    assert "without '_id'" in info.value.problems[0]
    assert "t9" in info.value.problems[1] and "createdAt" in info.value.problems[1]
    assert len(responses.calls) == 3  # the page was retried (max_retries=2) before it was accepted as is


@responses.activate
def test_a_malformed_tag_that_goes_away_on_retry_leaves_a_clean_listing(client):
    responses.get(TAGS_URL, json=tags_body([tag(1), {"tag": "no id"}]))
    responses.get(TAGS_URL, json=tags_body([tag(1), tag(2)]))
    assert [t.id for t in client.iter_tags(LOC)] == ["t0001", "t0002"]


@responses.activate
def test_a_truncated_page_is_retried_and_nothing_is_lost(client):
    full = [tag(i) for i in range(100)]
    responses.get(TAGS_URL, json=tags_body(full))
    responses.get(TAGS_URL, body=json.dumps(tags_body([tag(100), tag(101)]))[:40], content_type="application/json")
    responses.get(TAGS_URL, json=tags_body([tag(100), tag(101)]))
    assert len(list(client.iter_tags(LOC))) == 102


@responses.activate
def test_a_truncated_page_that_stays_truncated_raises(client):
    responses.get(TAGS_URL, body='{"success": true, "results": {"tags": [{"_id"', content_type="application/json")
    with pytest.raises(errors.BadResponse, match="not JSON"):
        list(client.iter_tags(LOC))


@responses.activate
def test_pages_are_capped(client):
    serve_tags([tag(i) for i in range(500)])
    with pytest.raises(errors.BadResponse, match="more than 2 pages"):
        list(client.iter_tags(LOC, max_pages=2))


@responses.activate
def test_search_is_sent_as_search_text(client):
    serve_tags([tag(1)])
    list(client.iter_tags(LOC, search="spring"))
    assert parse_qs(urlparse(responses.calls[0].request.url).query)["searchText"] == ["spring"]


# --- details ----------------------------------------------------------------------------------------------
@responses.activate
def test_details_are_batched_and_answer_201(client):
    def callback(request):
        ids = json.loads(request.body)["tagIds"]
        known = [tag(int(i[1:])) for i in ids if i != "t9999"]
        return 201, {}, json.dumps({"success": True, "statusCode": 201, "message": "Fetched Tags by Tag IDs",
                                    "results": {"tags": known, "count": len(known)}})

    responses.add_callback(responses.POST, DETAILS_URL, callback=callback)
    wanted = [f"t{i:04d}" for i in range(120)] + ["t9999", "t0001"]
    details = client.get_tag_details(LOC, wanted)
    assert [len(json.loads(c.request.body)["tagIds"]) for c in responses.calls] == [50, 50, 21]
    assert len(details) == 120 and "t9999" not in {t.id for t in details}


@responses.activate
def test_details_are_reads_and_are_retried(client):
    responses.post(DETAILS_URL, status=500, json={"message": "boom"})
    responses.post(DETAILS_URL, status=201, json={"results": {"tags": [tag(1)], "count": 1}})
    assert [t.id for t in client.get_tag_details(LOC, ["t0001"])] == ["t0001"]


@responses.activate
def test_malformed_details_raise_with_the_good_ones_attached(client):
    responses.post(DETAILS_URL, status=201, json={"results": {"tags": [tag(1), {"tag": "?"}]}})
    with pytest.raises(errors.BadResponse) as info:
        client.get_tag_details(LOC, ["t0001", "x"])
    assert [t.id for t in info.value.partial] == ["t0001"] and info.value.problems


def test_no_ids_no_request(client):
    assert client.get_tag_details(LOC, []) == []


# --- posts ------------------------------------------------------------------------------------------------
def post(i: int) -> dict:
    return {"_id": f"p{i}", "status": "published", "platform": "facebook", "tags": ["t0001"],
            "accountIds": ["acc1"], "summary": "hello", "publishedAt": "2025-03-02T10:00:00.000Z",
            "createdAt": "2025-03-01T10:00:00.000Z", "type": "post"}


@responses.activate
def test_posts_are_listed_with_string_paging_in_the_body(client):
    responses.post(POSTS_URL, json={"success": True, "results": {"posts": [post(i) for i in range(50)], "count": 60}})
    responses.post(POSTS_URL, json={"success": True, "results": {"posts": [post(i) for i in range(50, 60)]}})
    posts = list(client.iter_posts(LOC, date(2025, 3, 1), datetime(2025, 3, 31, 12, tzinfo=UTC),
                                   kind="post", accounts=["acc1", "acc2"]))
    assert len(posts) == 60
    body = json.loads(responses.calls[1].request.body)
    assert body == {"fromDate": "2025-03-01T00:00:00.000Z", "toDate": "2025-03-31T12:00:00.000Z",
                    "includeUsers": "false", "type": "post", "accounts": "acc1,acc2", "skip": "50", "limit": "50"}
    first = posts[0]
    assert (first.id, first.status, first.platform, first.tag_ids, first.account_ids) == (
        "p0", "published", "facebook", ("t0001",), ("acc1",))
    assert first.published_at == datetime(2025, 3, 2, 10, tzinfo=UTC)


@responses.activate
def test_a_page_of_nothing_but_malformed_tags_stops_the_listing(client):
    responses.get(TAGS_URL, json=tags_body([{"tag": f"no id {i}"} for i in range(100)]))
    with pytest.raises(errors.BadResponse, match="every item on it is malformed") as info:
        list(client.iter_tags(LOC))
    assert len(info.value.problems) == 100
    assert len(responses.calls) == 3  # the page and its two retries, never a walk through 10,000 pages


@responses.activate
def test_a_listing_is_streamed_holding_no_more_than_a_page_of_ids(client):
    serve_tags([tag(i) for i in range(1_000)])
    listing = client.iter_tags(LOC)
    assert [next(listing).id for _ in range(750)][-1] == "t0749"
    pages = listing.gi_yieldfrom  # iter_tags hands over to _paginate
    held = [v for v in pages.gi_frame.f_locals.values() if isinstance(v, set | list | dict)]
    assert held and max(len(v) for v in held) <= 100  # a set of every id would hold 700 by now
    assert len(list(listing)) == 250
