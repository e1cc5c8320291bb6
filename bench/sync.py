"""How long does a first sync of many locations take against the rate limit, and what does a second,
unchanged sync write? How much memory does a worker need for a very large location?

    .venv/bin/python bench/sync.py                # 20 locations x 2,000 tags, 90 days; RSS with 100,000 tags
    .venv/bin/python bench/sync.py --quick        # 5 locations x 500 tags, 30 days; RSS with 20,000 tags
    .venv/bin/python bench/sync.py --scale-out    # the same on PostgreSQL + Redis (127.0.0.1)

As in production: the sandbox runs in a process of its own (`manage.py runsandbox`, as HighLevel is another
machine) and answers with 50 ms latency per request; "Refresh all" enqueues every location's units, and a
real `manage.py qcluster` (Tagscope's default workers for the database: 4 on SQLite, 2 on PostgreSQL;
production settings, its scheduler off so the refresh is the whole load) runs them, a batch per worker
with the batch's units side by side. The database is a throwaway SQLite file (or a fresh `tagscope_bench`
database with `--scale-out`, Redis as broker and limiter). Prints figures and the targets; asserts nothing.

- floor: the most requests any one location needed / 10 per second (HighLevel's burst limit, 100 per 10 s)
- ratio: wall time (enqueue to the bulk run's end) / floor (target <= 1.10)
- 429s the sandbox answered (target 0) and the most requests it saw from one location in any 10 s
- rows written by a second, unchanged sync (target 0)
- the cluster's CPU time per request, and its workers' peak RSS
- peak RSS of a child process syncing one location's 100,000 tags (target <= 150 MB)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, scale_out_services, setup_django

POLL_SECONDS = 0.2


@functools.cache
def workers() -> int:
    """Q_WORKERS per qcluster: as Tagscope ships it for the database in use (dashboard/settings.py: 4 on SQLite,
    2 on PostgreSQL), or BENCH_WORKERS to try another count. Read once, before point_at (and agency.py) set the
    bench process's own Q_CLUSTER["workers"] for planning."""
    from django.conf import settings

    return int(os.environ.get("BENCH_WORKERS") or settings.Q_CLUSTER["workers"])


def point_at(url: str, state: dict, *, horizon_days: int) -> None:
    from django.conf import settings

    settings.HIGHLEVEL_API_BASE_URL = url
    settings.HIGHLEVEL_CLIENT_ID = state["client_id"]
    settings.HIGHLEVEL_CLIENT_SECRET = state["client_secret"]
    settings.SYNC_STATISTICS_HORIZON_DAYS = horizon_days
    settings.Q_CLUSTER["workers"] = workers()  # enqueue_units plans a batch per worker of the cluster


def worker_env(horizon_days: int) -> dict[str, str]:
    """Production settings (DEBUG off, so no query log) with this benchmark's database, sandbox and secrets."""
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "dashboard.settings", "SECRET_KEY": settings.SECRET_KEY,
        "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
        "HIGHLEVEL_API_BASE_URL": settings.HIGHLEVEL_API_BASE_URL, "HIGHLEVEL_CLIENT_ID": settings.HIGHLEVEL_CLIENT_ID,
        "HIGHLEVEL_CLIENT_SECRET": settings.HIGHLEVEL_CLIENT_SECRET,
        "SYNC_STATISTICS_HORIZON_DAYS": str(horizon_days),
        "Q_WORKERS": str(workers()), "Q_SCHEDULER": "false", "Q_SYNC": "false", "LOG_LEVEL": "WARNING",
    })
    return env


@contextmanager
def qcluster(env: dict[str, str], log_path: str):
    """A real `manage.py qcluster`, ready once it has run a task; stopped (SIGTERM) on the way out."""
    from django_q.conf import Conf
    from django_q.tasks import async_task

    from integrations.models import WorkerHeartbeat

    Conf.SYNC = False  # from here on this process enqueues to the broker, as the web process does
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        WorkerHeartbeat.objects.all().delete()
        async_task("integrations.tasks.heartbeat")
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.exists():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the qcluster did not start; see {log_path}")
            time.sleep(POLL_SECONDS)  # waiting for another process
        yield process
    finally:
        process.terminate()  # the cluster's own graceful stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


def tree_figures(root: int) -> tuple[float, float]:
    """(CPU seconds used by the cluster's processes so far, those replaced included; the largest peak RSS among
    the live ones in MB)."""
    user, system, peak = tree_split(root)
    return user + system, peak


def tree_split(root: int) -> tuple[float, float, float]:
    """tree_figures' CPU as (user seconds, system seconds), and the peak RSS: the system share is the kernel's
    work for the processes (sockets, futexes of threads waiting for the GIL, file locks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user, system, peak = 0.0, 0.0, 0.0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        # utime + cutime, stime + cstime: the cutime and cstime are the children it has reaped (workers
        # replaced after a task).
        user += (int(fields[11]) + int(fields[13])) / ticks
        system += (int(fields[12]) + int(fields[14])) / ticks
        hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "0")
        peak = max(peak, int(hwm) / 1024)
    return user, system, peak


def retries_due_enqueue(done: dict[tuple[int, object], str]) -> None:
    """Hand out the units that wait to try again once their time has come: a qcluster's scheduler does it in
    production (a one-off schedule per retry), and the benchmark's clusters run without one. `done` maps the
    (unit, attempt time) pairs already handed out to the error they waited with (a success clears it on the
    run)."""
    from django.utils import timezone

    from integrations.models import SyncRun
    from integrations.sync.scheduling import enqueue_unit

    due = SyncRun.objects.filter(status=SyncRun.Status.WAITING, kind__in=SyncRun.UNIT_KINDS,
                                 next_attempt_at__lte=timezone.now()).values_list("pk", "next_attempt_at", "error")
    for pk, at, error in due:
        if (pk, at) not in done:
            done[pk, at] = error
            enqueue_unit(pk)


def refresh_all_and_wait(deadline_seconds: float = 1800, watch=None) -> tuple[float, list]:
    """"Refresh all", as an admin clicks it; (seconds from the enqueue to the bulk run's end, its units).
    `watch()` is called at every poll meanwhile."""
    from integrations.models import SyncRun
    from integrations.sync.services import refresh_all_enqueue

    started = time.time()
    runs = refresh_all_enqueue(trigger="bench")
    bulk = SyncRun.objects.get(pk=runs[0].parent_id)
    deadline = time.monotonic() + deadline_seconds
    retried: dict[tuple[int, object], str] = {}
    while not bulk.is_finished:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the refresh did not finish in {deadline_seconds} s")
        time.sleep(POLL_SECONDS)  # watching the workers' progress in the database
        if watch:
            watch()
        retries_due_enqueue(retried)
        bulk.refresh_from_db()
    if retried:
        print(f"  {len(retried)} unit attempt(s) waited to try again; handed out when due, as the scheduler would:")
        for (pk, at), error in sorted(retried.items(), key=lambda item: item[0][1]):
            print(f"    run #{pk}, due {at:%H:%M:%S}: {error[:200]}")
    units = list(SyncRun.objects.filter(parent__parent=bulk))
    return bulk.finished_at.timestamp() - started, units


CPU_TARGET_MS = 2.0  # the cluster's CPU per HighLevel request, issue 23
SANDBOX_PIDS: dict[str, int] = {}  # url -> the pid serving it, so a benchmark can count its CPU apart


@contextmanager
def sandbox_process(**config: int):
    """The sandbox in a process of its own (`manage.py runsandbox`), as HighLevel is another machine: its
    CPU is not Tagscope's. Yields its URL once it answers (its pid in SANDBOX_PIDS meanwhile)."""
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
        SANDBOX_PIDS[url] = process.pid
        yield url
    finally:
        SANDBOX_PIDS.pop(url, None)
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fleet(args, workdir: str) -> None:
    from dashboard.devtools.demo import sandbox_agency_connect
    from integrations.models import ApiCall
    from sandbox.client import SandboxControl

    locations, tags, days = (5, 500, 30) if args.quick else (20, 2000, 90)
    with sandbox_process(seed=1, agencies=1, locations=locations, tags=tags, days=days) as url:
        control = SandboxControl(url)
        # Posts' insights grow with sandbox time, so a ticking clock changes a post or two between the syncs
        # (three rows at the eleventh pass): held still, the second sync is unchanged by construction.
        control.freeze()
        state = control.state()
        point_at(url, state, horizon_days=days)
        sandbox_agency_connect(control, redirect_uri="http://127.0.0.1/cb")
        ids = {loc["id"] for loc in state["locations"]}
        log_path = os.path.join(workdir, "qcluster.log")
        with qcluster(worker_env(days), log_path) as cluster:
            control.reset_stats()
            control.add_fault(latency_ms=50)
            user_before, system_before, _ = tree_split(cluster.pid)
            sandbox_before = tree_figures(SANDBOX_PIDS[url])[0]
            calls_before = ApiCall.objects.count()
            wall, units = refresh_all_and_wait()
            user, system, peak = tree_split(cluster.pid)
            sandbox_cpu = tree_figures(SANDBOX_PIDS[url])[0] - sandbox_before
            cpu, cpu_before = user + system, user_before + system_before
            stats = control.stats()
            by_location = {rid: r for rid, r in stats["resources"].items() if rid in ids}
            busiest = max(r["count"] for r in by_location.values())
            window = max(r["max_burst"] for r in by_location.values())
            floor = busiest / 10.0
            failed = [u for u in units if u.status != "succeeded"]
            requests = stats["requests"]["total"]
            print(f"first sync: {locations} locations x {tags} tags, {days} days of statistics, 50 ms latency")
            print(f"  cluster              1 qcluster x {workers()} workers, {len(units)} units in batches "
                  f"(SYNC_UNITS_PER_TASK), lanes per unit: SYNC_REQUEST_LANES")
            print(f"  wall time            {wall:8.1f} s")
            print(f"  requests             {requests:8d}  (busiest location {busiest}; "
                  f"{ApiCall.objects.count() - calls_before} call records)")
            print(f"  rate-limit floor     {floor:8.1f} s  (busiest location's requests / 10 per s)")
            print(f"  ratio wall/floor     {wall / floor:8.2f}    target <= 1.10")
            print(f"  429s seen            {stats['rate_limited']:8d}")
            print(f"  most in any 10 s     {window:8d}    (one location, as the sandbox counted; limit 100)")
            print(f"  units not succeeded  {len(failed):8d}  {[(u.kind, u.status, u.error[:60]) for u in failed][:3]}")
            print(f"  cluster CPU          {cpu - cpu_before:8.1f} s  ({(cpu - cpu_before) / requests * 1000:.2f} ms "
                  f"per request, target <= {CPU_TARGET_MS}; user {user - user_before:.1f} s, "
                  f"system {system - system_before:.1f} s); "
                  f"peak RSS of its largest process {peak:.0f} MB")
            # The sandbox runs the same code in every run: its CPU per request gauges this machine's speed at the
            # time, and the cluster's CPU over it compares runs taken while the machine ran faster or slower.
            print(f"  sandbox CPU          {sandbox_cpu:8.1f} s  ({sandbox_cpu / requests * 1000:.2f} ms per request, "
                  f"the machine's speed; cluster / sandbox CPU {(cpu - cpu_before) / max(sandbox_cpu, 1e-9):.2f})")
            control.clear_faults()
            wall2, units2 = refresh_all_and_wait()
            rows = sum(u.counts.get("rows_written", 0) for u in units2)
            print(f"second, unchanged sync: {wall2:.1f} s, rows written {rows}    target 0")
            for unit in units2:  # which writes, where the target is missed
                if unit.counts.get("rows_written", 0):
                    print(f"  {unit.kind} unit of location {unit.location_id}: {unit.counts}")


RSS_CHILD = """
import json, os, resource, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings_local"
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
# VmHWM, not ru_maxrss: Linux carries the forking parent's peak into ru_maxrss across exec, and the parent
# here holds the sandbox and its tags (the "peak" grew with the sandbox, not with the worker).
try:
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"outcome": outcome, "maxrss_kb": peak_kb}}))
"""


def rss(args, database_url: str, redis_url: str, *, tags: int | None = None, again: bool = False) -> list[dict]:
    """A worker process syncs one location's tags (and, with `again`, syncs it once more unchanged); answers
    each run's outcome, wall time, rows written and peak RSS (MB)."""
    from dashboard.devtools.demo import sandbox_agency_connect
    from integrations.models import Location, SyncRun, Tag
    from integrations.sync.runs import location_plan
    from sandbox.client import SandboxControl
    from sandbox.config import SandboxConfig
    from sandbox.server import SandboxServer

    tags = tags or (20_000 if args.quick else 100_000)
    runs: list[dict] = []
    started = time.monotonic()
    config = SandboxConfig(seed=2, agencies=1, locations=1, tags=tags, days=7, burst_limit=1000, burst_window_ms=1000)
    server = SandboxServer(config).start()
    try:
        control = SandboxControl(server.url)
        control.freeze()  # as in fleet(): the unchanged refresh must read the same insights as the first
        state = control.state()
        point_at(server.url, state, horizon_days=7)
        sandbox_agency_connect(control, redirect_uri="http://127.0.0.1/cb", company_id=state["agencies"][0]["id"])
        location = Location.objects.get(location_id=state["locations"][0]["id"])
        print(f"sandbox with one location of {tags} tags up in {time.monotonic() - started:.1f} s")
        for label in ("worker syncing", "worker refreshing, nothing changed,")[: 2 if again else 1]:
            _, (unit,) = location_plan(location, kinds=[SyncRun.Kind.TAGS], trigger="bench")
            code = RSS_CHILD.format(root=str(ROOT), db=database_url, redis=redis_url, url=server.url,
                                    cid=state["client_id"], secret=state["client_secret"], run_id=unit.pk)
            started = time.monotonic()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
            wall = time.monotonic() - started
            last = (out.stdout.strip().splitlines() or ["{}"])[-1]
            figures = json.loads(last) if last.startswith("{") else {}
            peak = figures.get("maxrss_kb", 0) / 1024
            unit.refresh_from_db()
            print(f"{label} one location of {tags} tags: {figures.get('outcome', out.stderr[-300:])} "
                  f"in {wall:.1f} s, {Tag.objects.filter(location=location).count()} tags stored, "
                  f"rows written {unit.counts.get('rows_written', 0)}")
            print(f"  peak RSS             {peak:8.1f} MB  target <= 150 MB")
            runs.append({"outcome": str(figures.get("outcome", "failed")), "wall": wall, "peak_mb": peak,
                         "rows_written": unit.counts.get("rows_written", 0)})
    finally:
        server.stop()
    return runs


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
        fleet(args, workdir)
        if not args.skip_rss:
            from integrations.models import Connection

            Connection.objects.all().delete()
            rss(args, database_url or f"sqlite:///{db_path}", redis_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the database and its rate-limit rings


if __name__ == "__main__":
    main()
