"""Faults injected mid-sync lose nothing and remove nothing; statistics are daily points with
"not available" kept apart from zero; the refresh command."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from integrations.models import Event, SocialAccount, StatisticsPoint, SyncRun, Tag
from integrations.sync.services import refresh_location_enqueue, sync_unit_execute


def _finish(run: SyncRun, hl) -> SyncRun:
    """Let a waiting run come back (as its one-off schedule would) once the faults are gone."""
    run.refresh_from_db()
    if run.status == SyncRun.Status.WAITING:
        hl.clear_faults()
        with time_machine.travel(run.next_attempt_at + timedelta(seconds=1)):
            sync_unit_execute(run_id=run.pk)
        run.refresh_from_db()
    return run


@pytest.mark.parametrize("fault", [
    {"error_burst": 3, "error_status": 500},
    {"rate_limit_storm": 3},
    {"timeout_burst": 2},
    {"truncated_rate": 0.3, "seed": 7},
    {"malformed_rate": 0.3, "seed": 7},
])
def test_faults_mid_sync_lose_nothing_and_remove_nothing(hl, location, settings, fault):
    settings.HIGHLEVEL_TIMEOUT = (1.0, 0.5)
    # No sleeping in tests: a 429 is not waited out in-process; the run comes back later instead.
    settings.HIGHLEVEL_RATE_LIMIT_MAX_WAIT_SECONDS = 0
    if "rate_limit_storm" in fault:
        settings.HIGHLEVEL_MAX_RETRIES = 0
    baseline = refresh_location_enqueue(location, kinds=["tags"])
    truth = {t["_id"] for t in hl.tags(location.location_id)}
    hl.add_fault(locations=[location.location_id], **fault)
    run = _finish(refresh_location_enqueue(location, kinds=["tags"]), hl)
    assert baseline.pk != run.pk and run.status == SyncRun.Status.SUCCEEDED, run.error
    assert set(Tag.objects.filter(location=location).values_list("tag_id", flat=True)) == truth
    assert not Tag.objects.filter(location=location, removed_at__isnull=False, deleted=False).exists()
    assert not Event.objects.filter(type=Event.Type.TAG_REMOVED).exists()


def test_statistics_are_daily_points_per_account_and_platform_with_gaps_kept_apart(hl, location, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS = 30
    run = refresh_location_enqueue(location, kinds=["statistics"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    points = StatisticsPoint.objects.filter(location=location)
    today = timezone.now().date()
    days = set(points.filter(profile_id="").values_list("day", flat=True))
    assert days == {today - timedelta(days=n) for n in range(30)}
    profiles = set(points.values_list("profile_id", flat=True))
    assert "" in profiles and len(profiles) > 1
    assert points.exclude(platform="").exists() and points.filter(platform="").exists()
    # A metric a platform does not report is absent, never stored as zero.
    for platform in set(points.exclude(platform="").values_list("platform", flat=True)):
        metrics = set(points.filter(platform=platform).values_list("metric", flat=True))
        assert metrics <= {"posts", "impressions", "followers", "likes", "reach", "comments", "shares"}
    assert not points.filter(platform="google", metric="reach").exists()  # google reports no reach
    assert not points.filter(platform="pinterest", metric="comments").exists()  # nor pinterest comments
    assert Event.objects.filter(type=Event.Type.STATISTICS_UPDATED, location=location).count() == 1
    # The next refresh asks only the recent days again, and writes nothing when nothing moved.
    hl.reset_stats()
    again = refresh_location_enqueue(location, kinds=["statistics"])
    again.refresh_from_db()
    assert again.counts["rows_written"] == 0 and again.counts["unchanged"] > 0
    assert again.counts["unchanged"] < points.count()


def test_refresh_command_waits_and_reports(hl, location, capsys):
    call_command("refresh", "--location", location.location_id, "--kind", "accounts", "--wait")
    out = capsys.readouterr().out
    assert "1 of 1 refreshes finished" in out and "succeeded" in out
    call_command("refresh", "--all", "--kind", "accounts")
    assert "enqueued run" in capsys.readouterr().out


def _one_day_answer(hl, location_id: str, profile_ids: list[str], day) -> dict:
    """What the sandbox answers for one day, asked directly with a fresh location token."""
    token = hl.oauth_tokens(f"location:{location_id}")["access_token"]
    dates = {"startDate": f"{day}T00:00:00.000Z", "endDate": f"{day}T23:59:59.999Z"}
    answer = hl.api("POST", f"/social-media-posting/statistics?locationId={location_id}", token,
                    json={"profileIds": profile_ids, "currentRange": dates}, version="v3")
    answer.raise_for_status()
    return answer.json()["results"]


def test_reach_and_shares_are_asked_one_day_at_a_time_within_a_budget_per_run(hl, location, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_REFETCH_DAYS = 30, 3
    settings.SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN = 5
    today = timezone.now().date()
    run = refresh_location_enqueue(location, kinds=["statistics"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    points = StatisticsPoint.objects.filter(location=location)
    asked = points.filter(platform="", metric="reach")
    # Every scope (all accounts, each account): the 3 recent days and the 2 newest missing ones.
    for scope in set(points.values_list("profile_id", flat=True)):
        assert set(asked.filter(profile_id=scope).values_list("day", flat=True)) == {
            today - timedelta(days=n) for n in range(5)}, scope
    # The stored numbers are the sandbox's, per platform, for that day and that account.
    day = today - timedelta(days=3)
    account = SocialAccount.objects.filter(location=location).exclude(platform="google").first()
    truth = _one_day_answer(hl, location.location_id, [account.profile_id], day)["breakdowns"]
    mine = points.filter(profile_id=account.profile_id, day=day)
    assert mine.get(platform=account.platform, metric="reach").value == \
        truth["reach"]["platforms"][account.platform]["value"]
    for metric in ("comments", "shares"):
        if metric in truth["engagement"][account.platform]:
            assert mine.get(platform=account.platform, metric=metric).value == \
                truth["engagement"][account.platform][metric]
    assert mine.get(platform="", metric="reach").value == truth["reach"]["total"]
    # The next run asks the recent days again and fills in two more days; what did not move is not written.
    again = refresh_location_enqueue(location, kinds=["statistics"])
    again.refresh_from_db()
    assert set(asked.filter(profile_id="").values_list("day", flat=True)) == {
        today - timedelta(days=n) for n in range(7)}
    assert not points.filter(metric__in=["reach", "shares"], day__lt=today - timedelta(days=6)).exists()
    assert again.counts["rows_written"] > 0


def test_a_breakdown_horizon_of_zero_asks_no_single_days(hl, location, settings):
    settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = 30, 0
    run = refresh_location_enqueue(location, kinds=["statistics"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    points = StatisticsPoint.objects.filter(location=location)
    assert points.filter(metric="impressions").exists()
    assert not points.filter(metric__in=["reach", "shares"]).exists()
