"""On-demand refreshes conclude quickly (issue 18): when HighLevel answers only 5xx, a refresh someone asked
for waits briefly between attempts, shows `waiting` with its attempt, next attempt and error (its parent
too), then fails with HighLevel's status, message and traceId, and its alert is raised as it fails. The
clock is frozen and moved by hand; the one-off retry schedules are run as django-q2's scheduler would, at
its ticks (every 30 s), so the figures are those of a real cluster at its slowest."""

from __future__ import annotations

import ast
from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from integrations.models import Alert, Event, SyncRun
from integrations.sync.runs import retry_backoff
from integrations.sync.services import refresh_location_enqueue
from integrations.tasks import alerts_evaluate

SCHEDULER_TICK = timedelta(seconds=30)  # django-q2 looks at its schedules every 30 s


def scheduler_tick() -> int:
    """Run the one-off retry schedules that are due, as django-q2's scheduler would; answers how many."""
    due = list(Schedule.objects.filter(name__startswith="tagscope.sync.retry.", next_run__lte=timezone.now()))
    for schedule in due:
        module, name = schedule.func.rsplit(".", 1)
        schedule.delete()  # a ONCE schedule with repeats=-1 is deleted once run
        getattr(import_module(module), name)(*ast.literal_eval(schedule.args))
    return len(due)


def api_run(http, run: SyncRun) -> dict:
    return http.get(f"/api/v1/runs/{run.pk}/").json()


@pytest.fixture
def failing(hl, location, settings, admin_user):
    settings.HIGHLEVEL_MAX_RETRIES = 0  # one call per attempt: the unit's own retries are under test
    hl.add_fault(locations=[location.location_id], error_rate=1.0, error_status=503)
    return location


def test_a_manual_refresh_of_a_failing_highlevel_fails_within_minutes_with_the_reason_and_its_alert(
        failing, admin_http, settings):
    started = timezone.now()
    with time_machine.travel(started, tick=False) as clock:
        top = refresh_location_enqueue(failing, actor=None)  # the page's and the API's refresh
        units = list(SyncRun.objects.filter(parent=top))
        assert {u.status for u in units} == {SyncRun.Status.WAITING}

        # The parent tells what its units do: waiting, the soonest next attempt, its attempt and error.
        shown = api_run(admin_http, top)
        assert shown["status"] == "waiting" and shown["attempt"] == 1 and shown["progress"]["done"] == 0
        soonest = min(u.next_attempt_at for u in units)
        assert shown["next_attempt_at"] == soonest.isoformat()
        assert "503" in shown["error"] and "will try again" in shown["error"]
        page = admin_http.get(f"/operations/runs/{top.pk}/").content.decode()
        assert "Waiting to try again" in page and "Attempt 1 failed" in page and "next attempt" in page

        while SyncRun.objects.filter(pk=top.pk, status__in=SyncRun.LIVE).exists():
            clock.shift(SCHEDULER_TICK)
            scheduler_tick()
            assert timezone.now() - started < timedelta(minutes=10), "never concluded"
        took = timezone.now() - started

    top.refresh_from_db()
    assert top.status == SyncRun.Status.FAILED and took < timedelta(minutes=5), took
    for unit in SyncRun.objects.filter(parent=top):
        assert unit.status == SyncRun.Status.FAILED and unit.attempts == settings.SYNC_ON_DEMAND_ATTEMPTS
        # HighLevel's status, message and traceId, on the unit and (by kind) on its parent.
        assert "ServerError: Service Unavailable status=503" in unit.error and "traceId=" in unit.error
        assert f"{unit.kind}: {unit.error}" in top.error
    assert top.trace_ids and top.attempts == settings.SYNC_ON_DEMAND_ATTEMPTS
    assert api_run(admin_http, top)["status"] == "failed"
    assert Event.objects.filter(type=Event.Type.SYNC_FAILED, run_id=top.pk).exists()

    # Raised as the run failed (the refresh asked for the check), not at the alerts schedule's next minute.
    alert = Alert.objects.get(state=Alert.State.OPEN)
    assert alert.dedupe_key == f"refresh.failed:{failing.location_id}" and "503" in alert.detail
    assert len(mail.outbox) == 1 and failing.name in mail.outbox[0].subject


def test_the_alert_of_a_failed_refresh_resolves_when_a_later_refresh_succeeds(failing, hl):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        top = refresh_location_enqueue(failing, kinds=["tags"])
        while SyncRun.objects.filter(pk=top.pk, status__in=SyncRun.LIVE).exists():
            clock.shift(SCHEDULER_TICK)
            scheduler_tick()
    assert Alert.objects.filter(state=Alert.State.OPEN, kind="refresh.failed").count() == 1
    hl.clear_faults()
    again = refresh_location_enqueue(failing, kinds=["tags"], trigger="schedule")
    again.refresh_from_db()
    assert again.status == SyncRun.Status.SUCCEEDED
    assert alerts_evaluate(["refresh.failed"])["resolved"] == 1


def test_a_scheduled_refresh_keeps_its_longer_backoff(db, location, settings):
    scheduled = SyncRun(trigger="schedule")
    on_demand = SyncRun(trigger="manual")
    assert [retry_backoff(scheduled).nominal(n) for n in range(4)] == [30, 60, 120, 240]
    assert retry_backoff(scheduled).delay(4) is None  # the fifth attempt was the last
    settings.SYNC_ON_DEMAND_ATTEMPTS, settings.SYNC_ON_DEMAND_RETRY_SECONDS = 3, 10
    assert [retry_backoff(on_demand).nominal(n) for n in range(2)] == [10, 20]
    assert retry_backoff(on_demand).delay(2) is None
    assert 10 <= retry_backoff(on_demand).delay(0) <= 12.5  # jitter only ever later


def test_a_failure_that_is_not_retryable_fails_at_once_even_for_a_scheduled_run(hl, location, monkeypatch):
    from integrations.highlevel.client import HighLevelClient
    from integrations.highlevel.errors import NotFound

    def gone(*args, **kwargs):
        raise NotFound("Location not found", status=404, trace_id="t-404")

    monkeypatch.setattr(HighLevelClient, "iter_tags", gone)
    run = refresh_location_enqueue(location, kinds=["tags"], trigger="schedule")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.attempts == 1
    assert "NotFound: Location not found status=404" in run.error and run.trace_ids == ["t-404"]
    assert not Alert.objects.exists()  # a scheduled run's failure alerts only when it repeats


def test_refresh_wait_tries_again_in_place_and_ends_with_the_failure(failing, monkeypatch, capsys):
    from django.core.management import CommandError, call_command

    with time_machine.travel(timezone.now(), tick=False) as clock:
        started = timezone.now()
        monkeypatch.setattr("integrations.management.commands.refresh.idle",
                            lambda seconds: clock.shift(timedelta(seconds=seconds)))
        with pytest.raises(CommandError, match="1 of 1 refreshes failed"):
            call_command("refresh", "--location", failing.location_id, "--kind", "tags", "--wait")
        took = timezone.now() - started
    out = capsys.readouterr().out
    assert "attempt 1 failed; next attempt at" in out and "attempt 2 failed" in out
    assert "): failed (" in out and "— ServerError: Service Unavailable status=503" in out
    assert took < timedelta(minutes=2)
    run = SyncRun.objects.get(kind="tags", trigger="command")
    assert run.status == SyncRun.Status.FAILED and run.attempts == 3
