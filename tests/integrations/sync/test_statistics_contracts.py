"""Statistics under HighLevel's two contracts, against the sandbox over HTTP: no number is stored under a
day it does not belong to, a refused v3 moves the connection to 2021-07-28's default window, and the pages
say so."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from integrations.connections.contract import StatisticsContract
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.types import day_name
from integrations.models import AuditEntry, Connection, StatisticsPoint, SyncRun
from integrations.sync.services import refresh_location_enqueue
from integrations.sync.statistics import statistics_window

STATISTICS = "POST /social-media-posting/statistics"
ALL = StatisticsPoint.ALL_ACCOUNTS
ONE_DAY_ONLY = ("reach", "comments", "shares")


def _refresh(location) -> SyncRun:
    run = refresh_location_enqueue(location, kinds=["statistics"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def _truth(hl, location, first: date, last: date) -> dict:
    """{(platform, metric, day): value} as the sandbox answers the whole location under v3."""
    profiles = list(StatisticsPoint.objects.filter(location=location).exclude(profile_id=ALL)
                    .values_list("profile_id", flat=True).distinct())
    token = hl.oauth_tokens(f"location:{location.location_id}")["access_token"]
    body = {"profileIds": profiles,
            "currentRange": {"startDate": f"{first}T00:00:00.000Z", "endDate": f"{last}T23:59:59.999Z"}}
    results = hl.api("POST", f"/social-media-posting/statistics?locationId={location.location_id}", token,
                     json=body, version="v3").json()["results"]
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    truth = {}
    for metric, by_platform in results["platformTotals"].items():
        for platform, entry in by_platform.items():
            truth.update({(platform, metric, d): v for d, v in zip(days, entry["series"], strict=True)})
    for platform, series in results["postPerformance"]["posts"].items():
        truth.update({(platform, "posts", d): v for d, v in zip(days, series, strict=True)})
    for metric in ("impressions", "likes", "comments"):
        truth.update({("", metric, d): v for d, v in zip(days, results["postPerformance"][metric], strict=True)})
    truth.update({("", "posts", d): sum(s[i] for s in results["postPerformance"]["posts"].values())
                  for i, d in enumerate(days)})
    return truth


def _assert_every_point_is_true(hl, location) -> list[date]:
    """Every point stored for all accounts equals the sandbox's number for its day; answers the days."""
    points = list(StatisticsPoint.objects.filter(location=location, profile_id=ALL))
    assert points
    days = sorted({p.day for p in points})
    truth = _truth(hl, location, days[0], days[-1])
    for point in points:
        key = (point.platform, point.metric, point.day)
        if key not in truth and point.metric in ONE_DAY_ONLY:
            continue  # a one-day breakdown's number (v3): checked in test_faults_and_statistics
        assert point.value == truth[key], key
    return days


def _local_today(location) -> date:
    return timezone.now().astimezone(ZoneInfo(location.timezone)).date()


def _week_before(location) -> list[date]:
    today = _local_today(location)
    return [today - timedelta(days=n) for n in range(7, 0, -1)]


@pytest.mark.parametrize("horizon", [30, 28, 7])
def test_a_server_that_ignores_ranges_stores_not_one_point_under_a_wrong_date(hl, location, settings, monkeypatch,
                                                                              horizon):
    """The bug of issue 16: ranges sent under 2021-07-28, to a HighLevel that keeps to that contract and
    answers last week whatever is asked. 28 and 7 days are whole weeks, whose names last week shares."""
    settings.SYNC_STATISTICS_HORIZON_DAYS = horizon
    monkeypatch.setattr("integrations.sync.statistics.statistics_contract_for",
                        lambda connection_id: StatisticsContract("2021-07-28", ranges=True, reprobe=False))
    run = _refresh(location)
    assert any("dayRange" in line and "nothing of it stored" in line for line in run.problems), run.problems
    assert run.trace_ids
    # What is stored came from the default window after the fallback, each number under its own day.
    assert _assert_every_point_is_true(hl, location) == _week_before(location)
    assert Connection.objects.get(pk=location.connection_id).social_api_version == "2021-07-28"


def test_v3_refused_the_connection_asks_the_default_window_once_a_day_and_the_pages_say_so(
        hl, location, admin_http, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS = 30
    hl.refuse_v3()
    run = _refresh(location)
    refusal = next(line for line in run.problems if "v3 refused" in line)
    assert "traceId" in refusal and "400" in refusal
    connection = Connection.objects.get(pk=location.connection_id)
    assert connection.social_api_version == "2021-07-28" and connection.social_api_fallback_at
    assert "traceId" in connection.social_api_fallback_reason
    assert AuditEntry.objects.filter(connection=connection, action=AuditEntry.Action.CONTRACT).exists()
    hl.refuse_v3(False)  # to read the truth
    week = _week_before(location)
    assert _assert_every_point_is_true(hl, location) == week
    assert StatisticsPoint.objects.filter(location=location).exclude(profile_id=ALL).exists()  # per account too
    assert not StatisticsPoint.objects.filter(location=location, metric__in=["reach", "shares"]).exists()

    # The statistics page says how far back history goes; the connection page which contract is in use.
    page = admin_http.get(reverse("location_statistics", args=[location.location_id]) + "?range=30d")
    text = re.sub(r"<[^>]+>", "", page.content.decode())
    assert f"history since {week[0]}: HighLevel gives only the last 7 days under this API version" in text
    detail = re.sub(r"<[^>]+>", "", admin_http.get(reverse("connection_detail", args=[connection.pk])).content.decode())
    assert "Version 2021-07-28 last 7 days only" in " ".join(detail.split())
    assert "Try v3 again" in detail
    agency = re.sub(r"<[^>]+>", "", admin_http.get(reverse("statistics")).content.decode())
    note = next(line for line in agency.splitlines() if "API version 2021-07-28" in line)
    # The agency connection serves every location: all of them moved.
    assert note.startswith(f"{len(hl.location_ids())} locations (") and location.name in note

    # Once a day: the next refresh the same day asks nothing.
    hl.refuse_v3()
    asked = hl.stats()["requests"]["by_endpoint"].get(STATISTICS, 0)
    _refresh(location)
    assert hl.stats()["requests"]["by_endpoint"].get(STATISTICS, 0) == asked

    # A day later, one more day of history.
    hl.advance(86400)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        _refresh(location)
        hl.refuse_v3(False)
        assert _assert_every_point_is_true(hl, location) == [week[0] + timedelta(days=n) for n in range(8)]


def test_answers_shifted_by_one_day_store_nothing(hl, location, monkeypatch, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS = 30
    original = HighLevelClient.get_statistics

    def one_day_late(self, *args, **kwargs):
        answers = original(self, *args, **kwargs)
        asked = [a.asked_days or () for a in answers]
        # Each answer labelled as if it covered the next days: same length, each name one day on.
        return [replace(a, day_range=tuple(day_name(d + timedelta(days=1)) for d in days) if days else
                        tuple(day_name(d) for d in [*_week_before(location)[1:], _local_today(location)]))
                for a, days in zip(answers, asked, strict=True)]

    monkeypatch.setattr(HighLevelClient, "get_statistics", one_day_late)
    run = _refresh(location)
    assert not StatisticsPoint.objects.filter(location=location).exists()
    assert any("v3 refused" in line for line in run.problems)  # the ranges' answers
    assert any("does not name the 7 days before" in line for line in run.problems)  # the default window's
    location.refresh_from_db()
    assert location.statistics_window_on is None  # asked again on the next refresh


@pytest.mark.parametrize(("horizon", "length"), [(30, 30), (28, 29), (14, 15), (7, 8), (3, 3)])
def test_a_range_is_never_a_whole_number_of_weeks(location, settings, horizon, length):
    from integrations.sync.runs import RunContext

    settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_REFETCH_DAYS = horizon, 3
    ctx = RunContext(run=None, location=location, client=None, owner="test")
    today = date(2026, 3, 15)
    start, end = statistics_window(ctx, ALL, today)
    assert end == today and (end - start).days + 1 == length


def test_try_v3_again_brings_the_ranges_back_and_fills_the_history(hl, location, admin_http, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS = 30
    hl.refuse_v3()
    _refresh(location)
    hl.refuse_v3(False)
    connection = Connection.objects.get(pk=location.connection_id)
    answer = admin_http.post(reverse("connection_try_v3", args=[connection.pk]))
    assert answer.status_code == 302
    connection.refresh_from_db()
    assert connection.social_api_version == "" and connection.statistics_ranges
    _refresh(location)
    today = timezone.now().date()
    days = set(_assert_every_point_is_true(hl, location))  # v3's ranges, day by day as HighLevel answers them
    assert {today - timedelta(days=n) for n in range(30)} <= days
    page = admin_http.get(reverse("location_statistics", args=[location.location_id]))
    assert b"history-note" not in page.content


def test_a_marketer_cannot_try_v3_again(hl, location, marketer_http):
    connection = Connection.objects.get(pk=location.connection_id)
    Connection.objects.filter(pk=connection.pk).update(social_api_version="2021-07-28",
                                                       social_api_fallback_at=timezone.now())
    assert marketer_http.post(reverse("connection_try_v3", args=[connection.pk])).status_code == 403
    assert Connection.objects.get(pk=connection.pk).social_api_version == "2021-07-28"


@pytest.mark.parametrize("still_refused", [True, False])
def test_a_week_after_the_fallback_v3_is_tried_again(hl, location, settings, still_refused):
    settings.SYNC_STATISTICS_HORIZON_DAYS = 30
    week_ago = timezone.now() - timedelta(days=7, minutes=1)
    Connection.objects.filter(pk=location.connection_id).update(
        social_api_version="2021-07-28", social_api_fallback_at=week_ago)
    hl.refuse_v3(still_refused)
    run = _refresh(location)
    connection = Connection.objects.get(pk=location.connection_id)
    if still_refused:
        assert connection.social_api_version == "2021-07-28" and connection.social_api_fallback_at > week_ago
        assert any("v3 refused" in line for line in run.problems)
    else:
        assert connection.social_api_version == "" and connection.social_api_fallback_at is None
        assert any("back on date ranges" in line for line in run.problems)
        assert StatisticsPoint.objects.filter(location=location, metric="reach").exists()


def test_a_fallen_back_connection_asks_its_posts_and_statistics_with_2021_07_28(hl, location):
    from integrations.connections.tokens import client_for_location

    Connection.objects.filter(pk=location.connection_id).update(social_api_version="2021-07-28")
    assert client_for_location(location).social_version == "2021-07-28"
    Connection.objects.filter(pk=location.connection_id).update(social_api_version="")
    assert client_for_location(location).social_version == "v3"
