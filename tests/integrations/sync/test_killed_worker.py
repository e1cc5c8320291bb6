"""A real django-q2 worker is killed (SIGKILL) mid-run, alone or with the rest of its batch; the next run takes
over (the broker redelivers, or the sweep hands the units out again) and finishes the work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import SyncRun, Tag, TagDetail
from integrations.sync.locks import LEASE
from integrations.sync.runs import location_plan
from integrations.sync.services import sync_unit_execute
from integrations.sync.sweep import WAIT_GRACE, sync_runs_sweep
from tests.faults.checks import duplicates, mirror_differences
from tests.support.polling import wait_for
from tests.support.subprocess_env import ROOT, child_env


def worker_killed_when(predicate: Callable[[], bool], what: str) -> None:
    """Start a real qcluster, and SIGKILL it, every process of it, once `predicate` holds."""
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=child_env(),
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(predicate, what)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_the_next_run_to_finish_with_nothing_duplicated(hl, location):
    # Slow HighLevel down for this location so the worker is surely mid-run when it dies.
    hl.add_fault(locations=[location.location_id], path="details|posts", latency_ms=400)
    _, (run,) = location_plan(location, kinds=["tags"])
    async_task("integrations.tasks.sync_unit", run.pk, sync=False)

    def mid_run() -> bool:
        current = SyncRun.objects.get(pk=run.pk)
        return current.status == SyncRun.Status.RUNNING and current.progress_done > 0

    worker_killed_when(mid_run, "the worker to be mid-run")
    killed = SyncRun.objects.get(pk=run.pk)
    assert killed.status == SyncRun.Status.RUNNING and killed.finished_at is None
    truth = hl.tags(location.location_id)
    assert TagDetail.objects.filter(tag__location=location).count() < len([t for t in truth if not t.get("deleted")])
    hl.clear_faults()

    # Before the lease expires nobody else may run it; after, the broker's redelivery finishes it.
    assert sync_unit_execute(run_id=run.pk) == "already running elsewhere"
    with time_machine.travel(timezone.now() + LEASE + timedelta(seconds=1)):
        assert sync_unit_execute(run_id=run.pk) == "succeeded"
    finished = SyncRun.objects.get(pk=run.pk)
    print(f"\nkilled worker: run {run.pk} attempts={finished.attempts} counts={finished.counts}")
    assert finished.status == SyncRun.Status.SUCCEEDED and finished.attempts == 2
    assert Tag.objects.filter(location=location).count() == len(truth) == len({t["_id"] for t in truth})
    assert TagDetail.objects.filter(tag__location=location).count() == len([t for t in truth if not t.get("deleted")])
    assert not Tag.objects.filter(location=location, removed_at__isnull=False, deleted=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_the_sweep_to_finish_every_unit_of_it(hl, location):
    hl.add_fault(locations=[location.location_id], latency_ms=300)
    top, units = location_plan(location)
    async_task("integrations.tasks.sync_units", [u.pk for u in units], sync=False)

    def both_mid_run() -> bool:  # the batch's tags and statistics side by side, both under way
        runs = SyncRun.objects.filter(pk__in=[u.pk for u in units], kind__in=["tags", "statistics"])
        return sum(r.status == SyncRun.Status.RUNNING and r.progress_done > 0 for r in runs) == 2

    worker_killed_when(both_mid_run, "the batch to be mid-run")
    killed = [u.pk for u in SyncRun.objects.filter(pk__in=[u.pk for u in units], status=SyncRun.Status.RUNNING)]
    assert len(killed) >= 2
    hl.clear_faults()

    # Nobody picks the lost units up again: the sweep finds them once their leases ran out, and they finish.
    with time_machine.travel(timezone.now() + WAIT_GRACE + timedelta(seconds=1)):
        assert sync_runs_sweep()["enqueued"] == len(killed)
    finished = {r.pk: r for r in SyncRun.objects.filter(pk__in=[u.pk for u in units])}
    print(f"\nkilled batch: {[(r.kind, r.status, r.attempts) for r in finished.values()]}")
    assert all(r.status == SyncRun.Status.SUCCEEDED for r in finished.values())
    assert all(finished[pk].attempts == 2 for pk in killed)
    assert SyncRun.objects.get(pk=top.pk).status == SyncRun.Status.SUCCEEDED
    assert mirror_differences(hl, location) == [] and duplicates() == 0
