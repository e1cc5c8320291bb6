"""The performance pages and API: shapes, CSV, 400s on bad parameters, empty states, campaigns grouped case-
and space-insensitively, aliases (admins merge and split with an audit entry; marketers read only), the
heatmap's sample sizes, the tag page's sections, and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import CampaignAlias
from integrations.models import AuditEntry, PostInsightSnapshot
from tests.dashboard.browsing_factories import location_make, post_make, tag_make

pytestmark = pytest.mark.django_db
RANGE = "start=2026-03-01&end=2026-03-31"


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def agency():
    acme, bravo = location_make("loc-a", "Acme", tz="UTC"), location_make("loc-b", "Bravo", tz="UTC")
    tag_make(acme, "Summer Sale", tag_id="a-sale")
    tag_make(acme, "Tips", tag_id="a-tips")
    tag_make(bravo, "summer  sale", tag_id="b-sale")
    tag_make(bravo, "SummerSales", tag_id="b-sales")
    n = iter(range(1000))
    for day, likes in ((2, 10), (3, 20), (4, 30)):
        post_make(acme, f"p{next(n)}", tag_ids=["a-sale"], when=at(day), likes=likes, comments=0, shares=0)
    post_make(acme, f"p{next(n)}", tag_ids=["a-tips"], when=at(5), likes=2, comments=0, shares=0)
    post_make(bravo, f"p{next(n)}", tag_ids=["b-sale"], when=at(6), likes=8, comments=1, shares=1)
    post_make(bravo, f"p{next(n)}", tag_ids=["b-sales"], when=at(7), likes=4, comments=0, shares=0)
    post_make(bravo, f"p{next(n)}", tag_ids=[], when=at(8), likes=2, comments=0, shares=0)
    return acme, bravo


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_scorecard_api_answers_the_design_s_row_keys(marketer_http, agency):
    answer = marketer_http.get(f"/api/v1/locations/loc-a/tags/performance/?{RANGE}&sort=-engagement").json()
    assert answer["count"] == 2 and answer["start"] == "2026-03-01" and answer["timezone"] == "UTC"
    first = answer["results"][0]
    for key in ("tag_id", "name", "posts", "published", "failed", "likes", "comments", "shares", "engagement",
                "engagement_per_post", "lift_pct", "insight_coverage", "previous_engagement_per_post"):
        assert key in first
    assert (first["tag_id"], first["posts"], first["engagement"], first["engagement_per_post"]) == ("a-sale", 3, 60,
                                                                                                    20.0)
    assert first["lift_pct"] == 900.0 and first["insight_coverage"] == 1.0  # 20 against the tips post's 2
    assert first["median_engagement_per_post"] == 20.0


def test_the_scorecard_csv_has_the_same_rows(marketer_http, agency):
    response = marketer_http.get(f"/api/v1/locations/loc-a/tags/performance/?{RANGE}&format=csv&sort=name")
    rows = rows_of(response)
    assert [r["name"] for r in rows] == ["Summer Sale", "Tips"] and rows[0]["engagement"] == "60"


@pytest.mark.parametrize("query", ["sort=bogus", "start=2026-13-01&end=2026-03-01", "start=2026-03-02",
                                   "account=nope", "page_size=0", "format=xml", "platform=face%20book"])
def test_bad_parameters_answer_400_json(marketer_http, agency, query):
    response = marketer_http.get(f"/api/v1/locations/loc-a/tags/performance/?{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_campaigns_group_names_case_and_space_insensitively(marketer_http, agency):
    answer = marketer_http.get(f"/api/v1/campaigns/?{RANGE}").json()
    by_slug = {c["slug"]: c for c in answer["results"]}
    assert set(by_slug) == {"summersale", "summersales", "tips"}
    sale = by_slug["summersale"]
    assert sale["spellings"] == ["Summer Sale", "summer  sale"] and sale["location_count"] == 2
    assert (sale["posts"], sale["engagement"]) == (4, 70)
    detail = marketer_http.get(f"/api/v1/campaigns/summersale/?{RANGE}").json()
    assert [loc["location_id"] for loc in detail["locations"]] == ["loc-a", "loc-b"]  # 20 then 10 per post
    assert detail["locations"][1]["lift_pct"] == pytest.approx((10 / 3 - 1) * 100, abs=0.1)  # against 4 and 2
    rows = rows_of(marketer_http.get(f"/api/v1/campaigns/summersale/?{RANGE}&format=csv"))
    assert [r["location_id"] for r in rows] == ["loc-a", "loc-b"]


def test_an_admin_merges_and_splits_a_spelling_with_an_audit_entry(admin_http, agency):
    response = admin_http.post("/campaigns/summersale/merge/", {"merged": "summersales"})
    assert response.status_code == 302
    assert CampaignAlias.objects.get().into_slug == "summersale"
    detail = admin_http.get(f"/api/v1/campaigns/summersale/?{RANGE}").json()
    assert detail["merged"] == ["summersales"] and detail["engagement"] == 74
    assert admin_http.get(f"/campaigns/summersales/?{RANGE}")["Location"].startswith("/campaigns/summersale/?")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_MERGED).count() == 1
    admin_http.post("/campaigns/summersale/split/", {"merged": "summersales"})
    assert not CampaignAlias.objects.exists()
    assert admin_http.get(f"/api/v1/campaigns/summersale/?{RANGE}").json()["engagement"] == 70
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_SPLIT).count() == 1


def test_a_marketer_reads_campaigns_but_cannot_merge(marketer_http, agency):
    page = marketer_http.get(f"/campaigns/summersale/?{RANGE}")
    assert page.status_code == 200 and b"Merge another spelling" not in page.content
    assert marketer_http.post("/campaigns/summersale/merge/", {"merged": "summersales"}).status_code == 403
    assert not CampaignAlias.objects.exists()


def test_a_merge_into_itself_or_of_nothing_is_refused(admin_http, agency):
    admin_http.post("/campaigns/summersale/merge/", {"merged": "summersale"})
    admin_http.post("/campaigns/summersale/split/", {"merged": "tips"})
    assert not CampaignAlias.objects.exists() and not AuditEntry.objects.exists()


def test_an_admin_merges_a_typed_name_and_an_unknown_name_is_refused_with_a_message(admin_http, agency):
    response = admin_http.post("/campaigns/summersale/merge/", {"merged": "  Summer SALES "}, follow=True)
    assert CampaignAlias.objects.get().slug == "summersales"  # the name as typed, capitals and spaces aside
    assert "Campaign names merged." in response.content.decode()
    refused = admin_http.post("/campaigns/summersale/merge/", {"merged": "Winter Gala"}, follow=True)
    assert "No tag in your locations is named “Winter Gala”" in refused.content.decode()
    assert CampaignAlias.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_MERGED).count() == 1


def test_the_merge_form_suggests_the_most_similar_names_first_and_at_most_twenty(admin_http, agency):
    from integrations.models import Location
    acme = Location.objects.get(location_id="loc-a")
    for n in range(30):
        tag_make(acme, f"Zebra {n:02d}", tag_id=f"z{n}")
    page = admin_http.get(f"/campaigns/summersale/?{RANGE}").content.decode()
    suggestions = page.split('<datalist id="merge-suggestions">')[1].split("</datalist>")[0]
    values = [v.split('"')[0] for v in suggestions.split('<option value="')[1:]]
    assert len(values) == 20 and values[0] == "SummerSales" and "Summer Sale" not in values
    assert sum(v.startswith("Zebra") for v in values) == 19  # 31 other names, the 20 most alike


def test_pages_render_their_figures_and_links(marketer_http, agency):
    page = marketer_http.get(f"/locations/loc-a/tags/performance/?{RANGE}").content.decode()
    assert "Summer Sale" in page and "/locations/loc-a/tags/a-sale/" in page and "small sample" in page
    assert "+900.0%" in page and "Export CSV" in page
    campaigns = marketer_http.get(f"/campaigns/?{RANGE}").content.decode()
    assert "/campaigns/summersale/" in campaigns and "2 spellings" in campaigns


def test_empty_states_say_what_to_do(marketer_http, agency):
    none = marketer_http.get("/locations/loc-a/tags/performance/?start=2025-01-01&end=2025-01-31").content.decode()
    assert "No posts in this range" in none and "try a longer range" in none
    searched = marketer_http.get(f"/locations/loc-a/tags/performance/?{RANGE}&q=zzz").content.decode()
    assert "No tag matching “zzz”" in searched
    assert "No tagged posts in this range" in marketer_http.get(
        "/campaigns/?start=2025-01-01&end=2025-01-31").content.decode()
    heat = marketer_http.get("/locations/loc-a/best-time/?start=2025-01-01&end=2025-01-31").content.decode()
    assert "No published posts with insights in this range" in heat
    assert marketer_http.get("/campaigns/nothing-here/").status_code == 404


def test_the_heatmap_shows_sample_sizes_and_greys_small_cells(marketer_http, agency):
    acme, _ = agency
    for n in range(3):
        post_make(acme, f"tue-{n}", tag_ids=[], when=datetime(2026, 3, 10, 9, 5 * n, tzinfo=UTC), likes=30,
                  comments=0, shares=0)
    page = marketer_http.get(f"/locations/loc-a/best-time/?{RANGE}").content.decode()
    assert "Tuesday 09:00\u201310:00" in page and "30.0 engagement per post over 3 posts" in page
    assert 'class="cell low"' in page and "fewer than 3, too few to rank" in page
    assert "n=3" in page


def test_the_tag_page_shows_charts_best_and_worst_posts_and_growth(marketer_http):
    loc = location_make("loc-t", "Tee", tz="UTC")
    tag_make(loc, "Launch", tag_id="launch")
    now = timezone.now()
    for n in range(12):
        post = post_make(loc, f"l{n}", tag_ids=["launch"], when=now - timedelta(days=n * 5), likes=n * 10,
                         comments=n, shares=0, summary=f"Launch post {n}")
        for d in range(3):
            PostInsightSnapshot.objects.create(post=post, day=(now - timedelta(days=n * 5 - d)).date(),
                                               likes=n * d, comments=0, shares=0, taken_at=now)
    page = marketer_http.get("/locations/loc-t/tags/launch/").content.decode()
    assert "Published posts per week" in page and 'id="tag-performance-data"' in page
    assert "Best posts" in page and "Weakest posts" in page and "Launch post 11" in page
    assert "Growth over the first 30 days" in page and "chart-growth" in page


def test_query_counts_do_not_grow_with_locations_and_tags(marketer_http, agency):
    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert marketer_http.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = [f"/locations/loc-a/tags/performance/?{RANGE}", f"/campaigns/?{RANGE}",
            f"/campaigns/summersale/?{RANGE}", f"/locations/loc-a/best-time/?{RANGE}",
            f"/api/v1/locations/loc-a/tags/performance/?{RANGE}", f"/api/v1/campaigns/?{RANGE}"]
    before = [count(u) for u in urls]
    for n in range(5):
        more = location_make(f"loc-x{n}", f"Extra {n}", tz="UTC")
        for k in range(5):
            tag_make(more, f"Summer Sale {k}", tag_id=f"x{n}-{k}")
            tag_make(agency[0], f"more {n} {k}", tag_id=f"a-more-{n}-{k}")
            post_make(more, f"x{n}-{k}", tag_ids=[f"x{n}-{k}"], when=at(9), likes=k, comments=0, shares=0)
            post_make(agency[0], f"a-more-{n}-{k}", tag_ids=[f"a-more-{n}-{k}"], when=at(9), likes=k)
    assert [count(u) for u in urls] == before


def test_kept_campaigns_follow_the_data_they_are_summed_from(marketer_http, agency):
    from integrations.data_versions import TAGS, versions_move
    from integrations.models import Post, TagPost

    def engagement() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            answer = marketer_http.get(f"/api/v1/campaigns/summersale/?{RANGE}").json()
        return answer["engagement"], len(ctx.captured_queries)

    first, cold = engagement()
    again, warm = engagement()
    assert first == again == 70 and warm < cold
    post = Post.objects.get(post_id="p0")  # as the posts sync does when insights move: new links, new ids
    post.likes = 110
    post.save()
    TagPost.objects.filter(post=post).delete()
    TagPost.objects.bulk_create([TagPost.of(post, t) for t in post.tag_ids])
    versions_move(post.location_id, TAGS)  # in the same transaction, as the sync does
    assert engagement()[0] == 170
    tag_make(agency[1], "Summer sale ", tag_id="b-sale-2")  # a new spelling in a location: a new tag
    post_make(agency[1], "late", tag_ids=["b-sale-2"], when=at(20), likes=5, comments=0, shares=0)
    assert engagement()[0] == 175


def test_a_campaign_reached_from_the_sorted_list_warns_of_nothing(marketer_http, agency):
    """The list's links carry its sort; the campaign's page, which does not sort, must not call it a mistake."""
    page = marketer_http.get(f"/campaigns/summersale/?{RANGE}&sort=-engagement_per_post")
    assert page.status_code == 200
    assert b"was ignored" not in page.content
    assert b"was ignored" not in marketer_http.get(f"/campaigns/summersale/?{RANGE}&sort=nonsense").content
