"""bench/lifecycle.py --quick: a small agency's two weeks with 4-day windows leave every table bounded.

The benchmark runs as a script on its own throwaway database; its figures are not judged here (not timed),
only that every table stopped growing once its window was full."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.subprocess_env import ROOT


def test_every_table_stops_growing_once_its_window_is_full():
    env_drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in env_drop and not k.startswith("PYTEST")}
    done = subprocess.run([sys.executable, "bench/lifecycle.py", "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    bounded = re.search(r"tables bounded: (\d+) of (\d+)", out)
    assert bounded and bounded.group(1) == bounded.group(2) and int(bounded.group(2)) >= 9, out[-3000:]
    assert "GROWING" not in out
    # The tables are bounded because rows were deleted, not because none were written.
    week_rows = [line.split() for line in out.splitlines() if re.match(r"\s+2\s+14\s", line)]
    assert week_rows and int(week_rows[0][2].replace(",", "")) > 10_000  # ApiCall rows kept at the end
