"""How long does a first sync of many locations take against the rate limit, and what does a second,
unchanged sync write? How much memory does a worker need for a very large location?

    .venv/bin/python bench/sync.py            # 20 locations x 2,000 tags, 90 days; RSS with 100,000 tags
    .venv/bin/python bench/sync.py --quick    # 5 locations x 500 tags, 30 days; RSS with 20,000 tags

An in-process sandbox answers with 50 ms latency per request; the sync runs on a throwaway SQLite file
with one thread per location unit (as separate django-q2 workers would). Prints figures and the
targets; asserts nothing.

- floor: the most requests any one location needed / 10 per second (HighLevel's burst limit, 100 per 10 s)
- ratio: wall time / floor (target <= 1.10)
- rows written by a second, unchanged sync (target 0)
- peak RSS of a child process syncing one location's tags (target <= 150 MB)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, setup_django


def point_at(url: str, state: dict, *, horizon_days: int) -> None:
    from django.conf import settings

    settings.HIGHLEVEL_API_BASE_URL = url
    settings.HIGHLEVEL_CLIENT_ID = state["client_id"]
    settings.HIGHLEVEL_CLIENT_SECRET = state["client_secret"]
    settings.SYNC_STATISTICS_HORIZON_DAYS = horizon_days
    settings.SYNC_POSTS_HORIZON_DAYS = horizon_days


def run_units(units, threads: int) -> None:
    from django.db import connection

    from integrations.sync.services import sync_unit_execute

    def one(run_id: int) -> str:
        try:
            return sync_unit_execute(run_id=run_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, [u.pk for u in units]))


def sync_everything(threads: int):
    from integrations.models import SyncRun
    from integrations.sync.services import bulk_plan, locations_interleaved

    _, _, units = bulk_plan(locations_interleaved(), kind=SyncRun.Kind.ALL, trigger="bench")
    started = time.monotonic()
    run_units(units, threads)
    wall = time.monotonic() - started
    runs = list(SyncRun.objects.filter(pk__in=[u.pk for u in units]))
    return wall, runs


def fleet(args) -> None:
    from integrations.highlevel.sandbox.client import SandboxControl
    from integrations.highlevel.sandbox.config import SandboxConfig
    from integrations.highlevel.sandbox.server import SandboxServer
    from integrations.sync.demo import sandbox_agency_connect

    locations, tags, days = (5, 500, 30) if args.quick else (20, 2000, 90)
    server = SandboxServer(SandboxConfig(seed=1, agencies=1, locations=locations, tags=tags, days=days)).start()
    try:
        control = SandboxControl(server.url)
        point_at(server.url, control.state(), horizon_days=days)
        sandbox_agency_connect(control, redirect_uri="http://127.0.0.1/cb")
        control.reset_stats()
        control.add_fault(latency_ms=50)
        wall, runs = sync_everything(threads=max(locations, 3 * locations))
        stats = control.stats()
        by_location = {rid: r["count"] for rid, r in stats["resources"].items() if rid in
                       {loc["id"] for loc in control.state()["locations"]}}
        busiest = max(by_location.values())
        floor = busiest / 10.0
        failed = [r for r in runs if r.status != "succeeded"]
        print(f"first sync: {locations} locations x {tags} tags, {days} days of statistics, 50 ms latency")
        print(f"  wall time            {wall:8.1f} s")
        print(f"  requests             {stats['requests']['total']:8d}  (busiest location {busiest})")
        print(f"  rate-limit floor     {floor:8.1f} s  (busiest location's requests / 10 per s)")
        print(f"  ratio wall/floor     {wall / floor:8.2f}    target <= 1.10")
        print(f"  429s seen            {stats['rate_limited']:8d}")
        print(f"  units not succeeded  {len(failed):8d}  {[(r.kind, r.status, r.error[:60]) for r in failed][:3]}")
        control.clear_faults()
        wall2, runs2 = sync_everything(threads=max(locations, 3 * locations))
        rows = sum(r.counts.get("rows_written", 0) for r in runs2)
        print(f"second, unchanged sync: {wall2:.1f} s, rows written {rows}    target 0")
    finally:
        server.stop()


RSS_CHILD = """
import json, os, resource, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
os.environ["TAGSCOPE_TESTING"] = "1"
os.environ["DATABASE_URL"] = "sqlite:///" + {db!r}
import django
django.setup()
from django.conf import settings
settings.HIGHLEVEL_API_BASE_URL = {url!r}
settings.HIGHLEVEL_CLIENT_ID, settings.HIGHLEVEL_CLIENT_SECRET = {cid!r}, {secret!r}
# A generous limit (1,000 per second) so the run measures memory, not waiting; the ring stays small.
settings.HIGHLEVEL_BURST_LIMIT, settings.HIGHLEVEL_BURST_WINDOW_SECONDS = 1000, 1.0
from integrations.sync.services import sync_unit_execute
outcome = sync_unit_execute(run_id={run_id})
print(json.dumps({{"outcome": outcome, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def rss(args, db_path: str) -> None:
    from integrations.highlevel.sandbox.client import SandboxControl
    from integrations.highlevel.sandbox.config import SandboxConfig
    from integrations.highlevel.sandbox.server import SandboxServer
    from integrations.models import Location, SyncRun, Tag
    from integrations.sync.demo import sandbox_agency_connect
    from integrations.sync.services import location_plan

    tags = 20_000 if args.quick else 100_000
    config = SandboxConfig(seed=2, agencies=1, locations=1, tags=tags, days=7, burst_limit=1000, burst_window_ms=1000)
    server = SandboxServer(config).start()
    try:
        control = SandboxControl(server.url)
        state = control.state()
        point_at(server.url, state, horizon_days=7)
        sandbox_agency_connect(control, redirect_uri="http://127.0.0.1/cb", company_id=state["agencies"][0]["id"])
        location = Location.objects.get(location_id=state["locations"][0]["id"])
        _, (unit,) = location_plan(location, kinds=[SyncRun.Kind.TAGS], trigger="bench")
        code = RSS_CHILD.format(root=str(ROOT), db=db_path, url=server.url, cid=state["client_id"],
                                secret=state["client_secret"], run_id=unit.pk)
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        last = (out.stdout.strip().splitlines() or ["{}"])[-1]
        figures = json.loads(last) if last.startswith("{") else {}
        peak = figures.get("maxrss_kb", 0) / 1024
        print(f"worker syncing one location of {tags} tags: {figures.get('outcome', out.stderr[-300:])} "
              f"in {wall:.1f} s, {Tag.objects.filter(location=location).count()} tags stored")
        print(f"  peak RSS             {peak:8.1f} MB  target <= 150 MB")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller run for a quick look")
    parser.add_argument("--skip-rss", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="tagscope-bench-")
    db_path = os.path.join(workdir, "bench.sqlite3")
    setup_django(db_path)
    try:
        fleet(args)
        if not args.skip_rss:
            from integrations.models import Connection

            Connection.objects.all().delete()
            rss(args, db_path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(db_path + suffix).unlink(missing_ok=True)
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
