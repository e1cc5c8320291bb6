"""Waiting for the machine to settle before pages are timed.

A first sync of 200 locations leaves work behind it for a while after its last unit: SQLite's checkpoint of a
WAL of gigabytes, PostgreSQL's checkpointer and autovacuum, the clusters' and the sandbox's exits. Pages timed
then waited for the cores (p95s 3-60 ms over their CPU, load averages of 1.7 on SQLite and 22-35 on
PostgreSQL): they measured what the machine was still doing, not what a page costs. So the agency benchmark
waits until the cores are mostly idle, up to a bound, and prints how long it waited and how idle they were.

The load average is no gauge for this: it is a minute's moving average. The share of the cores' time that was
busy or waiting on the disk (iowait: PostgreSQL's checkpoint after the sync left the cores idle but the disk
busy, load averages of 22-28, and a page's reads waited behind it) comes from /proc/stat, read twice a window
apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

IDLE = 3  # idle, in /proc/stat's "cpu" line after its name (iowait, the next, counts as busy)


def cpu_times(stat: str | None = None) -> tuple[int, int]:
    """(busy or waiting on the disk, total) jiffies of every core since boot, from /proc/stat's first line."""
    line = (stat if stat is not None else Path("/proc/stat").read_text()).splitlines()[0]
    values = [int(v) for v in line.split()[1:9]]  # user .. steal: guest time is counted in user already
    return sum(values) - values[IDLE], sum(values)


@dataclass
class Settled:
    waited: float  # seconds
    busy: float  # the cores' share busy or waiting on the disk in the last window, 0..1
    quiet: bool  # whether it went under the bound (else the wait gave up)

    def __str__(self) -> str:
        state = "quiet" if self.quiet else "still busy; timed anyway"
        return (f"waited {self.waited:.0f} s for the cores and the disk to settle: {self.busy:.0%} busy or "
                f"waiting on the disk ({state})")


def wait_for_quiet(*, busy_below: float = 0.10, window: float = 2.0, give_up_after: float = 180.0,
                   read: Callable[[], tuple[int, int]] = cpu_times, sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic) -> Settled:
    """Wait until the cores were less than `busy_below` busy or waiting on the disk over a `window`, or
    `give_up_after` seconds."""
    started = clock()
    while True:
        before = read()
        sleep(window)
        after = read()
        total = after[1] - before[1]
        busy = (after[0] - before[0]) / total if total > 0 else 0.0
        waited = clock() - started
        if busy < busy_below or waited >= give_up_after:
            return Settled(waited=waited, busy=busy, quiet=busy < busy_below)
