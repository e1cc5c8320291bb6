"""Units enqueued together go to workers in batches: one per worker (more when a batch would pass
SYNC_UNITS_PER_TASK), dealt round-robin, a lone unit as its own task."""

from __future__ import annotations

from types import SimpleNamespace

from integrations.sync.scheduling import UNIT_TASK, UNITS_TASK, batches_plan, cluster_workers, enqueue_units


def test_a_batch_per_worker_dealt_round_robin():
    assert batches_plan(list(range(6)), per_task=32, workers=2) == [[0, 2, 4], [1, 3, 5]]


def test_more_batches_when_one_per_worker_would_be_too_large():
    batches = batches_plan(list(range(100)), per_task=32, workers=2)
    assert len(batches) == 4 and {len(b) for b in batches} == {25}
    assert sorted(i for b in batches for i in b) == list(range(100))


def test_never_more_batches_than_units():
    assert batches_plan([7], per_task=32, workers=4) == [[7]]
    assert batches_plan([], per_task=32, workers=4) == []


def test_enqueue_sends_batches_to_the_units_task_and_a_lone_unit_to_the_unit_task(monkeypatch, settings):
    sent = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kwargs: sent.append((func, args)))
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}  # no cluster reports: as configured
    settings.SYNC_UNITS_PER_TASK = 32
    enqueue_units([11, 12, 13])
    assert sent == [(UNITS_TASK, ([11, 13],)), (UNIT_TASK, (12,))]


def test_batches_are_planned_for_every_running_clusters_workers(monkeypatch, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}
    monkeypatch.setattr("django_q.status.Stat.get_all", lambda: [SimpleNamespace(workers=[1, 2, 3]),
                                                                 SimpleNamespace(workers=[4, 5])])
    assert cluster_workers() == 5
    monkeypatch.setattr("django_q.status.Stat.get_all", lambda: [])
    assert cluster_workers() == 2
