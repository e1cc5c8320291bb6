"""How long does a first sync of many locations take against the rate limit, and what does a second,
unchanged sync write? How much memory does a worker need for a very large location?

    .venv/bin/python bench/sync.py                # 20 locations x 2,000 tags, 90 days; RSS with 100,000 tags
    .venv/bin/python bench/sync.py --quick        # 5 locations x 500 tags, 30 days; RSS with 20,000 tags
    .venv/bin/python bench/sync.py --scale-out    # the same on PostgreSQL + Redis (127.0.0.1)

The sandbox runs in a process of its own (`manage.py runsandbox`, as HighLevel is another machine) and
answers with 50 ms latency per request. The units run in 2 worker processes (django-q2's default
Q_WORKERS) with 30 threads each, on a throwaway SQLite file (or a fresh `tagscope_bench` database with
`--scale-out`). Prints figures and the targets; asserts nothing.

- floor: the most requests any one location needed / 10 per second (HighLevel's burst limit, 100 per 10 s)
- ratio: wall time / floor (target <= 1.10)
- rows written by a second, unchanged sync (target 0)
- peak RSS of a child process syncing one location's tags (target <= 150 MB)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, scale_out_services, setup_django


def point_at(url: str, state: dict, *, horizon_days: int) -> None:
    from django.conf import settings

    settings.HIGHLEVEL_API_BASE_URL = url
    settings.HIGHLEVEL_CLIENT_ID = state["client_id"]
    settings.HIGHLEVEL_CLIENT_SECRET = state["client_secret"]
    settings.SYNC_STATISTICS_HORIZON_DAYS = horizon_days
    settings.SYNC_POSTS_HORIZON_DAYS = horizon_days


WORKER_CHILD = """
import json, os, sys
from concurrent.futures import ThreadPoolExecutor
conf = json.loads(sys.argv[1])
sys.path.insert(0, conf["root"])
os.environ.update(conf["env"])
import django
django.setup()
from django.conf import settings
for name, value in conf["settings"].items():
    setattr(settings, name, value)
from django.db import connection
from integrations.sync.services import sync_unit_execute
def one(run_id):
    try:
        return sync_unit_execute(run_id=run_id)
    finally:
        connection.close()
print("ready", flush=True)
sys.stdin.readline()
with ThreadPoolExecutor(max_workers=conf["threads"]) as pool:
    list(pool.map(one, conf["runs"]))
"""
WORKER_PROCESSES = 4  # Q_WORKERS=4: the units mostly wait on HighLevel, so more processes than cores
SHARED_SETTINGS = ("HIGHLEVEL_API_BASE_URL", "HIGHLEVEL_CLIENT_ID", "HIGHLEVEL_CLIENT_SECRET",
                   "SYNC_STATISTICS_HORIZON_DAYS", "SYNC_POSTS_HORIZON_DAYS")


def run_units(units, *, processes: int, threads: int) -> float:
    """The units shared round-robin among `processes` worker processes, `threads` threads in all, as
    django-q2's worker processes would take them; answers the wall time from "go" to the last one done."""
    from django.conf import settings

    names = ("DJANGO_SETTINGS_MODULE", "TAGSCOPE_TESTING", "DATABASE_URL", "REDIS_URL")
    env = {name: os.environ[name] for name in names if name in os.environ}
    shared = {name: getattr(settings, name) for name in SHARED_SETTINGS}
    children = []
    for n in range(processes):
        conf = {"root": str(ROOT), "env": env, "settings": shared, "threads": -(-threads // processes),
                "runs": [u.pk for u in units[n::processes]]}
        children.append(subprocess.Popen([sys.executable, "-c", WORKER_CHILD, json.dumps(conf)], cwd=ROOT,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for child in children:
        assert child.stdout.readline().strip() == "ready", "a worker process did not start"
    started = time.monotonic()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        child.wait()
    return time.monotonic() - started


def sync_everything(threads: int):
    from integrations.models import SyncRun
    from integrations.sync.services import bulk_plan, locations_interleaved

    _, _, units = bulk_plan(locations_interleaved(), kind=SyncRun.Kind.ALL, trigger="bench")
    wall = run_units(units, processes=WORKER_PROCESSES, threads=threads)
    runs = list(SyncRun.objects.filter(pk__in=[u.pk for u in units]))
    return wall, runs


@contextmanager
def sandbox_process(**config: int):
    """The sandbox in a process of its own (`manage.py runsandbox`), as HighLevel is another machine: its
    CPU is not Tagscope's. Yields its URL once it answers."""
    import requests

    port = _free_port()
    options = [f"--{name}={value}" for name, value in config.items()]
    process = subprocess.Popen([sys.executable, "manage.py", "runsandbox", f"--port={port}", *options], cwd=ROOT,
                               env={**os.environ, "DEBUG": "true"}, stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/_sandbox/state", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.2)  # waiting for another process to listen
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fleet(args) -> None:
    from integrations.highlevel.sandbox.client import SandboxControl
    from integrations.sync.demo import sandbox_agency_connect

    locations, tags, days = (5, 500, 30) if args.quick else (20, 2000, 90)
    with sandbox_process(seed=1, agencies=1, locations=locations, tags=tags, days=days) as url:
        control = SandboxControl(url)
        point_at(url, control.state(), horizon_days=days)
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


RSS_CHILD = """
import json, os, resource, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
os.environ["TAGSCOPE_TESTING"] = "1"
os.environ["DATABASE_URL"] = {db!r}
if {redis!r}:
    os.environ["REDIS_URL"] = {redis!r}
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


def rss(args, database_url: str, redis_url: str) -> None:
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
        code = RSS_CHILD.format(root=str(ROOT), db=database_url, redis=redis_url, url=server.url,
                                cid=state["client_id"], secret=state["client_secret"], run_id=unit.pk)
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
    parser.add_argument("--scale-out", action="store_true",
                        help="PostgreSQL + Redis on 127.0.0.1 (a fresh tagscope_bench database, Redis db 14)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="tagscope-bench-")
    db_path = os.path.join(workdir, "bench.sqlite3")
    database_url, redis_url = scale_out_services() if args.scale_out else ("", "")
    setup_django(db_path, database_url=database_url, redis_url=redis_url)
    print(f"database: {'PostgreSQL, limiter and broker on Redis' if args.scale_out else 'SQLite (embedded default)'}")
    try:
        fleet(args)
        if not args.skip_rss:
            from integrations.models import Connection

            Connection.objects.all().delete()
            rss(args, database_url or f"sqlite:///{db_path}", redis_url)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(db_path + suffix).unlink(missing_ok=True)
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
