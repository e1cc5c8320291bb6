"""Posts under both contracts (faked with `responses`): the Version header they go out with, every field
the mirror keeps, insights absent kept apart from 0, and malformed fields that cost nothing but a problem."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import responses

from integrations.clients import highlevel_config
from integrations.highlevel import errors
from integrations.highlevel.types import PostInsights
from tests.integrations.highlevel.test_client import (  # noqa: F401  (fixtures)
    BASE,
    LOC,
    TAGS_URL,
    clock,
    make_client,
    recorder,
    tags_body,
)

POSTS_URL = f"{BASE}/social-media-posting/{LOC}/posts/list"


def v3_post(post_id: str = "p1", **extra) -> dict:
    """A post as the v3 spec shows one (apps/v3/social-planner-v3.json)."""
    return {
        "_id": post_id, "platform": "instagram", "accountId": "acc_ig", "postId": "1789", "status": "published",
        "error": None, "type": "post", "postType": "reel", "summary": "Spring is here #sale",
        "publishedAt": "2025-03-02T10:00:05.000Z", "displayDate": "2025-03-02T10:00:00.000Z",
        "scheduleDate": "2025-03-02T10:00:00.000Z", "tags": ["t1", "t2"], "source": "composer",
        "thumbnail": "https://cdn.example.com/thumb/p1.jpg", "media": [{"url": "https://cdn.example.com/p1.jpg"}],
        "createdBy": "u1", "createdAt": "2025-03-01T09:00:00.000Z", "updatedAt": "2025-03-02T10:00:05.000Z",
        "insights": {"like": 42, "share": 3, "comment": 7}, **extra,
    }


def page(*posts: dict) -> dict:
    return {"success": True, "statusCode": 200, "message": "Posts fetched", "results": {"posts": list(posts),
                                                                                      "count": len(posts)}}


def listed(client, **kwargs):
    return list(client.iter_posts(LOC, date(2025, 3, 1), date(2025, 3, 31), **kwargs))


@responses.activate
def test_posts_go_out_under_the_social_version_and_tags_under_the_api_version(make_client, settings):  # noqa: F811
    responses.post(POSTS_URL, json=page())
    responses.get(TAGS_URL, json=tags_body([]))
    client = make_client()
    listed(client)
    list(client.iter_tags(LOC))
    assert responses.calls[0].request.headers["Version"] == "v3"
    assert responses.calls[1].request.headers["Version"] == settings.HIGHLEVEL_API_VERSION == "2021-07-28"


@responses.activate
def test_the_social_version_comes_from_the_config_and_the_config_from_the_setting(make_client, settings):  # noqa: F811
    responses.post(POSTS_URL, json=page())
    listed(make_client(social_api_version="2021-07-28"))
    assert responses.calls[0].request.headers["Version"] == "2021-07-28"
    settings.HIGHLEVEL_SOCIAL_API_VERSION = "v3-next"
    assert highlevel_config().social_api_version == "v3-next"


@responses.activate
def test_a_v3_post_carries_every_field_the_mirror_keeps(make_client):  # noqa: F811
    responses.post(POSTS_URL, json=page(v3_post()))
    (post,) = listed(make_client())
    assert (post.id, post.platform, post.account_id, post.status, post.error, post.post_type) == (
        "p1", "instagram", "acc_ig", "published", None, "reel")
    assert post.published_at == datetime(2025, 3, 2, 10, 0, 5, tzinfo=UTC)
    assert post.display_date == datetime(2025, 3, 2, 10, tzinfo=UTC)
    assert post.tag_ids == ("t1", "t2") and post.summary == "Spring is here #sale"
    assert post.thumbnail == "https://cdn.example.com/thumb/p1.jpg"
    assert post.insights == PostInsights(like=42, share=3, comment=7)
    assert post.problems == ()
    body = json.loads(responses.calls[0].request.body)
    assert (body["skip"], body["fromDate"], body["toDate"]) == ("0", "2025-03-01T00:00:00.000Z",
                                                                 "2025-03-31T23:59:59.999Z")


@responses.activate
def test_a_2021_07_28_post_has_no_insights_which_is_not_zero(make_client):  # noqa: F811
    old = v3_post()
    del old["insights"]
    responses.post(POSTS_URL, json=page(old, v3_post("p2", insights={"like": 0, "share": 0, "comment": 0}),
                                        v3_post("p3", insights=None)))
    absent, zero, null = listed(make_client())
    assert absent.insights is None and null.insights is None
    assert zero.insights == PostInsights(like=0, share=0, comment=0)


@responses.activate
def test_a_count_left_out_is_not_available_and_numeric_strings_are_read(make_client):  # noqa: F811
    responses.post(POSTS_URL, json=page(v3_post(insights={"like": "12", "comment": 0})))
    (post,) = listed(make_client())
    assert post.insights == PostInsights(like=12, share=None, comment=0)


@responses.activate
def test_malformed_insights_error_and_thumbnail_keep_the_post_and_name_each_problem(make_client):  # noqa: F811
    responses.post(POSTS_URL, json=page(
        v3_post("p1", insights={"like": "lots", "share": -2, "comment": 1.5}),
        v3_post("p2", insights=[1, 2], status="failed", error={"message": "Token expired"}, thumbnail="ftp://x"),
    ))
    first, second = listed(make_client())
    assert first.insights == PostInsights(like=None, share=None, comment=None)
    assert len(first.problems) == 3 and all(line.startswith("post p1: insights.") for line in first.problems)
    assert second.insights is None and second.error == "Token expired" and second.thumbnail is None
    assert [line.split(": ", 1)[1][:12] for line in second.problems] == ["'insights' i", "'thumbnail' "]
    assert len(responses.calls) == 1  # soft problems are not a bad answer: nothing asked again


@responses.activate
def test_a_post_that_cannot_be_read_is_a_listing_problem_after_the_good_ones(make_client):  # noqa: F811
    broken = v3_post("p2", publishedAt="yesterday")
    responses.post(POSTS_URL, json=page(v3_post("p1"), broken, {"summary": "no id"}))
    client = make_client(max_retries=0)
    got = []
    with pytest.raises(errors.BadResponse) as info:
        for post in client.iter_posts(LOC, date(2025, 3, 1), date(2025, 3, 31)):
            got.append(post.id)
    assert got == ["p1"]
    assert len(info.value.problems) == 2 and "publishedAt is not a date" in info.value.problems[0]
