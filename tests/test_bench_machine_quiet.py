"""bench/machine_quiet.py: the agency benchmark times its pages once the cores have settled after the sync,
judged from /proc/stat's busy share over a window (the clock and the sleep are injected: nothing waits)."""

from __future__ import annotations

import pytest

from tests.support.bench_modules import bench_module


@pytest.fixture
def quiet():
    return bench_module("machine_quiet")


STAT = "cpu  {user} 0 {system} {idle} {iowait} 0 0 0 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"


def test_busy_and_total_jiffies_come_from_the_first_line_waiting_on_the_disk_counting_as_busy(quiet):
    # guest time (the 9th value) is in user already: not counted twice
    assert quiet.cpu_times(STAT.format(user=10, system=5, idle=80, iowait=5)) == (20, 100)


class FakeMachine:
    """Busy shares, one per window, and a clock that the injected sleep moves."""

    def __init__(self, shares: list[float]):
        self.shares, self.now, self.busy, self.total, self.windows = list(shares), 0.0, 0, 0, 0

    def read(self) -> tuple[int, int]:
        return self.busy, self.total

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        share = self.shares[min(self.windows, len(self.shares) - 1)]
        self.windows += 1
        self.busy += round(share * 1000)
        self.total += 1000


def test_it_waits_window_by_window_until_the_cores_are_quiet(quiet):
    machine = FakeMachine([0.95, 0.60, 0.04])
    settled = quiet.wait_for_quiet(read=machine.read, sleep=machine.sleep, clock=lambda: machine.now)
    assert (settled.quiet, settled.waited, settled.busy) == (True, 6.0, 0.04)
    assert str(settled) == "waited 6 s for the cores and the disk to settle: 4% busy or waiting on the disk (quiet)"


def test_a_machine_that_stays_busy_is_given_up_on_and_said_so(quiet):
    machine = FakeMachine([0.80])
    settled = quiet.wait_for_quiet(give_up_after=10, read=machine.read, sleep=machine.sleep,
                                   clock=lambda: machine.now)
    assert (settled.quiet, settled.waited, machine.windows) == (False, 10.0, 5)
    assert str(settled) == ("waited 10 s for the cores and the disk to settle: 80% busy or waiting on the disk "
                             "(still busy; timed anyway)")


def test_the_real_proc_stat_reads(quiet):
    busy, total = quiet.cpu_times()
    assert 0 <= busy <= total and total > 0
