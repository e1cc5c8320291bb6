"""bench/timeline.py (bench/agency.py --timeline): requests per second, locations sending, units running and the
CPU shares of each 10 s window of a sync, from the call records, the runs and the samples taken meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.bench_modules import bench_module

START = 1_800_000_000.0


def timeline():
    return bench_module("timeline")


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(START + seconds, tz=UTC)


def test_each_window_counts_its_requests_locations_and_running_units():
    bench = timeline()
    calls = [("loc-a", at(0.5)), ("loc-a", at(1)), ("loc-b", at(9.9)),  # first window: 3 from 2 locations
             ("loc-a", at(25))]  # third window; the second sent nothing
    units = [("tags", at(0), at(12)), ("statistics", at(1), at(30)), ("accounts", at(0), at(2))]
    rows = bench.timeline_rows(calls, units, START, cpu={0: (1.25, 0.5)})
    assert [(r["from"], r["requests_per_second"], r["active"], r["per_active"]) for r in rows] == [
        (0, 0.3, 2, 0.15), (10, 0.0, 0, 0.0), (20, 0.1, 1, 0.1)]
    # units running at each window's middle (5 s, 15 s, 25 s)
    assert [r["running"] for r in rows] == [{"tags": 1, "statistics": 1}, {"statistics": 1}, {"statistics": 1}]
    assert (rows[0]["cluster_cpu"], rows[0]["sandbox_cpu"], rows[1]["cluster_cpu"]) == (1.25, 0.5, None)


def test_cpu_shares_are_the_cpu_seconds_used_over_the_seconds_sampled_in_each_window():
    bench = timeline()
    now = [START]
    cluster = iter([0.0, 3.0, 12.0, 12.5])  # CPU seconds read at each sample
    sandbox = iter([0.0, 1.0, 2.0, 2.0])
    samples = bench.CpuSamples(START, lambda: next(cluster), lambda: next(sandbox), lambda: now[0])
    for seconds in (0, 0.2, 2, 8, 12):  # the poll 0.2 s after the first takes no sample (under a second)
        now[0] = START + seconds
        samples()
    shares = bench.timeline_rows([("loc", at(1)), ("loc", at(11))], [], START, samples.shares(10))
    assert [(r["cluster_cpu"], r["sandbox_cpu"]) for r in shares] == [(1.5, 0.25), (None, None)]
    assert samples.shares(10) == {0: (1.5, 0.25)}  # one sample in the second window: no span to divide by


def test_no_calls_no_rows():
    assert timeline().timeline_rows([], [("tags", at(0), at(5))], START, {}) == []
