"""bench/sync.py's stand-in for the scheduler: the benchmark's qclusters run without one, so the wait for a
refresh hands out the units that wait to try again once their time has come, each attempt once (a run that
hit a PostgreSQL pool timeout under load otherwise left "Refresh all" unfinished until the deadline), keeping
the error each waited with for the benchmark to print."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from tests.support.bench_modules import bench_module
from tests.support.subprocess_env import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def sync_bench(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # its sibling `common`
    return bench_module("sync")


def test_units_due_to_try_again_are_handed_out_once_per_attempt(sync_bench, monkeypatch):
    from integrations.sync import scheduling

    handed: list[int] = []
    monkeypatch.setattr(scheduling, "enqueue_unit", handed.append)
    now = timezone.now()
    due = SyncRun.objects.create(kind="statistics", status="waiting", next_attempt_at=now - timedelta(seconds=1),
                                 error="will try again: OperationalError: database is locked")
    SyncRun.objects.create(kind="statistics", status="waiting", next_attempt_at=now + timedelta(minutes=5))
    SyncRun.objects.create(kind="all", status="waiting", next_attempt_at=now - timedelta(seconds=1))  # no unit
    done: dict = {}
    sync_bench.retries_due_enqueue(done)
    sync_bench.retries_due_enqueue(done)
    assert handed == [due.pk]
    # what it waited with is kept: the attempt that succeeds clears the run's error
    assert list(done.values()) == ["will try again: OperationalError: database is locked"]
    # it failed again and waits for a later attempt: handed out again when that comes
    SyncRun.objects.filter(pk=due.pk).update(next_attempt_at=now - timedelta(milliseconds=1))
    sync_bench.retries_due_enqueue(done)
    assert handed == [due.pk, due.pk]
