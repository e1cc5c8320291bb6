"""Statistics: ranges and presets, gaps, gauges, derived engagement, compare, filters, demographics,
ranking, and the pages (first paint from the embedded payload, a fixed number of queries)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.http import QueryDict

from dashboard.params import Params
from dashboard.selectors.statistics import demographics_for, locations_ranked, statistics_for
from dashboard.selectors.statistics_range import StatsQuery, location_today, preset_range, stats_query_from
from integrations.models import StatisticsPoint
from tests.dashboard.browsing_factories import accounts_make, demographics_make, location_make, statistics_make

pytestmark = pytest.mark.django_db
END = date(2026, 3, 31)


@pytest.fixture
def acme():
    location = location_make("loc-a", "Acme")
    accounts = accounts_make(location, platforms=("facebook", "instagram"))
    statistics_make(location, end=END, days=60, accounts=accounts, value=10.0, gaps={END - timedelta(days=2)})
    return location


def query(**kwargs) -> StatsQuery:
    return StatsQuery(**{"start": END - timedelta(days=6), "end": END, "compare": True, **kwargs})


@pytest.mark.parametrize(("preset", "expected"), [
    ("7d", (date(2026, 3, 9), date(2026, 3, 15))), ("30d", (date(2026, 2, 14), date(2026, 3, 15))),
    ("90d", (date(2025, 12, 16), date(2026, 3, 15))), ("mtd", (date(2026, 3, 1), date(2026, 3, 15))),
    ("last_month", (date(2026, 2, 1), date(2026, 2, 28))),
])
def test_presets(preset, expected):
    assert preset_range(preset, date(2026, 3, 15)) == expected


def test_today_is_the_locations_own_day():
    location = location_make("loc-tz", "Tokyo", tz="Asia/Tokyo")
    with time_machine.travel(datetime(2026, 3, 15, 20, 0, tzinfo=UTC), tick=False):
        assert location_today(location) == date(2026, 3, 16)
        assert location_today(None) == date(2026, 3, 15)


@pytest.mark.parametrize(("params", "error"), [
    ("start=2026-03-10", "end must be a date"), ("start=2026-03-10&end=2026-03-01", "not be after"),
    ("range=week", "range must be one of"), ("start=2020-01-01&end=2026-01-01", "at most"),
    ("account=nobody", "not a social account"),
])
def test_bad_queries_are_refused_when_strict_and_defaulted_otherwise(params, error):
    with pytest.raises(ValueError, match=error):
        stats_query_from(Params(QueryDict(params), strict=True), today=END, accounts={})
    lenient = Params(QueryDict(params), strict=False)
    query = stats_query_from(lenient, today=END, accounts={})
    assert query.preset in ("30d", "custom") and query.end >= query.start
    assert any(error in problem for problem in lenient.problems)


def test_days_without_numbers_are_gaps_and_totals_skip_them(acme):
    data = statistics_for(location_pks=[acme.pk], query=query())
    impressions = data["metrics"]["impressions"]
    values = [p["value"] for p in impressions["series"]]
    assert values == [20, 20, 20, 20, None, 20, 20]
    assert impressions["by_platform"]["facebook"]["series"][4]["value"] is None
    assert impressions["total"] == 120 and impressions["previous_total"] == 140 and impressions["change_pct"] == -14.3
    assert data["platforms"] == ["facebook", "instagram"]


def test_followers_are_a_running_count_and_engagement_is_derived(acme):
    metrics = statistics_for(location_pks=[acme.pk], query=query())["metrics"]
    assert metrics["followers"]["total"] == 20  # the last day, both platforms: not 7 days summed
    assert metrics["engagement"]["series"][0]["value"] == 60  # (likes + comments + shares) x 2 platforms
    assert list(metrics) == ["impressions", "reach", "engagement", "likes", "comments", "shares", "followers", "posts"]


def test_the_followers_card_is_the_last_point_of_the_all_platform_line(acme):
    # Instagram's count is missing on the last day: the all-platform line has a gap there (not a drop to
    # Facebook's count alone), and the card is its last point, the day before.
    StatisticsPoint.objects.filter(metric="followers", platform="facebook").update(value=1000)
    instagram = StatisticsPoint.objects.filter(metric="followers", platform="instagram")
    instagram.filter(day=END - timedelta(days=1)).update(value=512)
    instagram.filter(day=END).update(value=None)
    followers = statistics_for(location_pks=[acme.pk], query=query())["metrics"]["followers"]
    series = [p["value"] for p in followers["series"]]
    assert series[-1] is None and series[-2] == 1512
    assert series[4] is None  # the fixture's gap day
    assert followers["total"] == next(v for v in reversed(series) if v is not None) == 1512
    assert followers["by_platform"]["facebook"]["total"] == 1000  # each platform's own latest count
    assert followers["previous_total"] == 1010 and followers["change_pct"] == 49.7


def test_a_not_available_value_stays_a_gap_and_a_missing_metric_is_absent(acme):
    StatisticsPoint.objects.filter(metric="reach", profile_id="", day=END).update(value=None)
    StatisticsPoint.objects.filter(metric="shares").delete()
    metrics = statistics_for(location_pks=[acme.pk], query=query())["metrics"]
    assert metrics["reach"]["series"][-1]["value"] is None and "shares" not in metrics
    assert metrics["engagement"]["series"][0]["value"] == 40


def test_without_compare_there_is_no_previous_total(acme):
    impressions = statistics_for(location_pks=[acme.pk], query=query(compare=False))["metrics"]["impressions"]
    assert impressions["previous_total"] is None and impressions["change_pct"] is None
    assert "previous_series" not in impressions


def test_compare_gives_the_previous_period_day_by_day_for_the_chart(acme):
    StatisticsPoint.objects.filter(metric="impressions", day=END - timedelta(days=10)).update(value=None)
    impressions = statistics_for(location_pks=[acme.pk], query=query())["metrics"]["impressions"]
    previous = impressions["previous_series"]
    assert [p["date"] for p in previous] == [(END - timedelta(days=n)).isoformat() for n in range(13, 6, -1)]
    assert [p["value"] for p in previous] == [20, 20, 20, None, 20, 20, 20]  # a gap stays a gap
    assert sum(p["value"] or 0 for p in previous) == impressions["previous_total"]


def test_platform_and_account_filters(acme):
    only = statistics_for(location_pks=[acme.pk], query=query(platform="instagram"))
    assert only["platforms"] == ["instagram"] and only["metrics"]["impressions"]["total"] == 60
    account = acme.social_accounts.get(platform="facebook")
    parsed = stats_query_from(Params(QueryDict(f"account={account.account_id}&range=7d"), strict=True), today=END,
                              accounts={account.account_id: account})
    assert parsed.profile_id == account.profile_id and parsed.platform == "facebook"
    data = statistics_for(location_pks=[acme.pk], query=parsed)
    assert data["platforms"] == ["facebook"] and data["metrics"]["likes"]["total"] == 60


def test_demographics_take_the_latest_answer_up_to_the_end(acme):
    demographics_make(acme, end=END - timedelta(days=10))
    demographics_make(acme, end=END + timedelta(days=10))
    latest = demographics_for(location_pks=[acme.pk], query=query())
    assert latest["as_of"] == (END - timedelta(days=10)).isoformat()
    assert latest["gender"] == {"male": 40, "female": 55, "unknown": 5} and latest["age"]["25-34"] == 50
    assert demographics_for(location_pks=[acme.pk], query=query(end=END - timedelta(days=20))) is None


def test_demographics_answered_on_the_next_utc_day_count_for_a_range_ending_on_the_locations_today(acme):
    demographics_make(acme, end=END + timedelta(days=1))
    latest = demographics_for(location_pks=[acme.pk], query=query())
    assert latest["as_of"] == (END + timedelta(days=1)).isoformat() and latest["gender"]["female"] == 55


def test_demographics_of_many_locations_sum_each_ones_latest_answer_only(acme):
    other = location_make("loc-b", "Bistro")
    demographics_make(acme, end=END - timedelta(days=10))  # acme's older answer, on the day of other's latest
    demographics_make(acme, end=END - timedelta(days=3))
    demographics_make(other, end=END - timedelta(days=10))
    demographics_make(other, profile_id="an-account", end=END - timedelta(days=3))  # another profile's answer
    summed = demographics_for(location_pks=[acme.pk, other.pk], query=query())
    assert summed["as_of"] == (END - timedelta(days=3)).isoformat()
    assert summed["gender"] == {"male": 80, "female": 110, "unknown": 10} and summed["age"]["25-34"] == 100


def test_agency_sums_locations_and_ranks_them(acme):
    other = location_make("loc-b", "Bistro")
    statistics_make(other, end=END, days=10, accounts=accounts_make(other, platforms=("google",)), value=50.0)
    summed = statistics_for(location_pks=[acme.pk, other.pk], query=query())["metrics"]["impressions"]
    assert summed["total"] == 120 + 350
    ranked = locations_ranked(locations=[acme, other], query=query(), metric="engagement")
    assert [r["name"] for r in ranked] == ["Bistro", "Acme"] and ranked[0]["total"] == 1050


def test_the_location_page_embeds_the_payload_and_says_the_time_zone(marketer_http, acme,
                                                                     django_assert_max_num_queries):
    with time_machine.travel(datetime(2026, 3, 31, 18, 0, tzinfo=UTC), tick=False), django_assert_max_num_queries(12):
        response = marketer_http.get("/locations/loc-a/statistics/", {"range": "7d", "platform": "facebook"})
    html = response.content.decode()
    config = json.loads(html.split('id="stats-config" type="application/json">')[1].split("</script>")[0])
    assert config["initial"]["start"] == "2026-03-25" and config["initial"]["platform"] == "facebook"
    assert config["api_url"] == "/api/v1/locations/loc-a/statistics/"
    assert "America/New_York" in html and 'data-metric="impressions" data-total="60"' in html
    assert "Data last refreshed" in html and "Export CSV" in html
    # Chart legends spell platforms as the server does, not as a capitalised id ("Linkedin").
    assert config["platform_labels"]["linkedin"] == "LinkedIn" and config["platform_labels"]["tiktok"] == "TikTok"
    assert config["platform_labels"]["facebook"] == "Facebook"


def test_the_table_view_is_served_without_javascript(marketer_http, acme):
    with time_machine.travel(datetime(2026, 3, 31, 18, 0, tzinfo=UTC), tick=False):
        html = marketer_http.get("/locations/loc-a/statistics/", {"range": "7d", "view": "table"}).content.decode()
    assert 'data-metric-table="impressions"' in html
    assert '<th scope="row">2026-03-29</th><td class="num">\u2013' in html  # the gap day


def test_the_pages_run_a_fixed_number_of_queries_however_many_locations(marketer_http, acme,
                                                                        django_assert_max_num_queries):
    for n in range(6):
        extra = location_make(f"loc-x{n}", f"Extra {n}")
        statistics_make(extra, end=END, days=30, accounts=accounts_make(extra, platforms=("tiktok",)))
    asked = {"start": "2026-03-01", "end": "2026-03-31", "rank": "reach"}
    # The first view computes (two more queries read the locations' statistics versions), the next is kept.
    with django_assert_max_num_queries(14):
        response = marketer_http.get("/statistics/", asked)
    assert len(response.context["payload"]["ranking"]) == 7 and response.context["rank"] == "reach"
    with django_assert_max_num_queries(9):
        again = marketer_http.get("/statistics/", asked)
    assert again.context["payload"]["ranking"] == response.context["payload"]["ranking"]


def test_the_kept_payloads_json_reads_back_as_the_payload_and_is_safe_in_a_script_element():
    from dashboard.selectors.statistics_payload import payload_json, script_safe

    payload = {"metrics": {"impressions": {"total": 12.5, "series": [{"date": "2026-03-01", "value": None},
                                                                      {"date": "2026-03-02", "value": 3}]}},
               "platforms": ["facebook"], "timezone": "Europe/Zürich", "note": "</script><b>&"}
    text = script_safe(payload_json(payload))
    assert json.loads(text) == payload
    assert "</script>" not in text and "<b>" not in text and "&" not in text
    huge = {"value": 2**70}  # past what orjson encodes: json's text, as before
    assert json.loads(payload_json(huge)) == huge
