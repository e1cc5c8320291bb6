"""Where a benchmark sync's wall time goes, window by window (bench/agency.py --timeline).

For each window of the sync: HighLevel requests per second and the locations that sent any (from the call
records the sync kept), the units running by kind (from the runs' start and end), and the share of a core
that the cluster and the sandbox used (sampled while the bench waited). A phase whose requests per active
location sit near 10 per second is bound by HighLevel's limit; one whose CPU shares leave the cores idle is
bound by something else (a lock, a queue, too few units in flight).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

WINDOW_SECONDS = 10


class CpuSamples:
    """(seconds since `start`, cluster CPU seconds, sandbox CPU seconds), taken at a poll at most every
    `every` seconds (reading /proc for every process is CPU that the machine's floor does not count)."""

    def __init__(
        self,
        start: float,
        cluster: Callable[[], float],
        sandbox: Callable[[], float],
        clock: Callable[[], float],
        every: float = 1.0,
    ) -> None:
        self.start, self.cluster, self.sandbox, self.clock, self.every = start, cluster, sandbox, clock, every
        self.samples: list[tuple[float, float, float]] = []

    def __call__(self) -> None:
        now = self.clock() - self.start
        if not self.samples or now - self.samples[-1][0] >= self.every:
            self.samples.append((now, self.cluster(), self.sandbox()))

    def shares(self, window: int) -> dict[int, tuple[float, float]]:
        """Per window index: (cluster, sandbox) CPU as a share of one core, from the samples it spans."""
        first: dict[int, tuple[float, float, float]] = {}
        last: dict[int, tuple[float, float, float]] = {}
        for sample in self.samples:
            index = int(sample[0] // window)
            first.setdefault(index, sample)
            last[index] = sample
        shares = {}
        for index, (t0, c0, s0) in first.items():
            t1, c1, s1 = last[index]
            if t1 > t0:
                shares[index] = ((c1 - c0) / (t1 - t0), (s1 - s0) / (t1 - t0))
        return shares


def timeline_rows(
    calls: list[tuple[str, datetime]],
    units: list[tuple[str, datetime, datetime]],
    start: float,
    cpu: dict[int, tuple[float, float]],
    window: int = WINDOW_SECONDS,
) -> list[dict]:
    """One row per window from `start` (epoch seconds) to the last call: `calls` (resource id, when sent),
    `units` (kind, started, finished), `cpu` as CpuSamples.shares answers."""
    sent: dict[int, list[str]] = defaultdict(list)
    for resource, at in calls:
        sent[int((at.timestamp() - start) // window)].append(resource)
    if not sent:
        return []
    rows = []
    for index in range(max(0, min(sent)), max(sent) + 1):
        middle = start + (index + 0.5) * window
        running = Counter(kind for kind, began, ended in units if began.timestamp() <= middle < ended.timestamp())
        resources = sent.get(index, [])
        active = len(set(resources))
        cluster, sandbox = cpu.get(index, (None, None))
        rows.append(
            {
                "from": index * window,
                "requests_per_second": len(resources) / window,
                "active": active,
                "per_active": len(resources) / window / active if active else 0.0,
                "running": dict(running),
                "cluster_cpu": cluster,
                "sandbox_cpu": sandbox,
            }
        )
    return rows


def timeline_print(rows: list[dict]) -> None:
    print(
        "timeline (10 s windows): from | requests/s | locations sending | requests/s per location | units "
        "running | cluster CPU, sandbox CPU (cores)"
    )
    for row in rows:
        cpu = "-" if row["cluster_cpu"] is None else f"{row['cluster_cpu']:.2f}, {row['sandbox_cpu']:.2f}"
        running = " ".join(f"{kind} {n}" for kind, n in sorted(row["running"].items())) or "-"
        print(
            f"  {row['from']:>4} s | {row['requests_per_second']:6.0f} | {row['active']:4d} | "
            f"{row['per_active']:5.2f} | {running} | {cpu}"
        )
