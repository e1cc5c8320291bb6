"""An agency's first sync by a real cluster, then its agency-wide pages: is the sync bound by a floor, and
do the pages stay fast at 200 locations?

    .venv/bin/python bench/agency.py                # 200 locations x 2,000 tags, 90 days; SQLite, 1 qcluster
    .venv/bin/python bench/agency.py --scale-out    # the same on PostgreSQL + Redis, 3 qcluster processes
    .venv/bin/python bench/agency.py --quick        # 20 locations x 200 tags, 30 days, for a quick look
    .venv/bin/python bench/agency.py --pages-only   # the pages only, on 200 locations' rows planted directly
    .venv/bin/python bench/agency.py --pages-only --scale-out   # the same on PostgreSQL

`--pages-only` skips the sync (over 10 minutes at 200 locations): bench/agency_plant.py writes the rows the
sync would have left (2,000 tags and 500 posts per location, --days of statistics, the rollups), then the
pages are timed as below. The query counts are what to trust on a shared machine; the load is printed.

As bench/sync.py does it (its machinery is reused): the sandbox in a process of its own answering with 50 ms
latency, production settings, "Refresh all" enqueued and run by real `manage.py qcluster` processes
(Tagscope's default workers: 4 on SQLite, 2 each on PostgreSQL). `--scale-out` drops and creates the
PostgreSQL database named by --database and empties the Redis db --redis-db: never point them at anything
that matters.

Prints `figure: name | value | target | ok` lines (bench/run_all.py puts them in its table):
- wall time (enqueue to the bulk run's end), requests, 429s (target 0);
- the rate-limit floor: the busiest location's requests / 10 per s (HighLevel's 100 per 10 s);
- the CPU floor: requests x the cluster's CPU per request / cores; which floor binds;
- on SQLite, how long the cluster's transactions held the one write lock, summed (another floor: they take
  turns), and how much of that was CPU (dashboard/sqlite3/write_hold.py);
- wall / max(both floors) (target <= 1.15); peak RSS of every cluster process (target <= 200 MB);
- the database size; whether the agency rollup equals the raw points summed;
- the agency pages (statistics over 365 days, API with ranking, rankings, overview) p95 <= 150 ms, and issue
  20's scorecard (<= 100 ms), heatmap (<= 100 ms) and campaign list (<= 150 ms) on the synced data; their query
  counts, then again after all but two locations are deleted: the counts must not change. Pages keep answers
  by the locations' data versions (dashboard/selectors/performance_memo.py), so those are views of unchanged
  data; the first view after one location's sync (its versions moved: p95 against the same targets) and with
  nothing kept (a process just started, or every location synced: p50) are timed too.
The pages are timed once the cores have settled after the sync (bench/machine_quiet.py, at most 3 minutes;
the wait and the cores' busy share are printed). The machine is shared: figures vary from run to run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import scale_out_services, setup_django
from machine_quiet import wait_for_quiet
from pages import measure
from sync import (
    SANDBOX_PIDS,
    point_at,
    qcluster,
    refresh_all_and_wait,
    sandbox_process,
    tree_figures,
    worker_env,
    workers,
)
from timeline import WINDOW_SECONDS, CpuSamples, timeline_print, timeline_rows

RSS_TARGET_MB = 200
RATIO_TARGET = 1.15
PAGE_TARGET_MS = 150


def figure(name: str, value: str, target: str = "-", ok: bool | None = None) -> None:
    """One line bench/run_all.py reads: figure | value | target | ok (or missed, or - without a target)."""
    verdict = "-" if ok is None else ("ok" if ok else "missed")
    print(f"figure: {name} | {value} | {target} | {verdict}", flush=True)


def database_size(db_path: str) -> float:
    """MB on disk: the SQLite file and its WAL, or PostgreSQL's own count of the database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0] / 1e6
    return sum(Path(p).stat().st_size for p in (db_path, db_path + "-wal") if Path(p).exists()) / 1e6


class PeakWatch:
    """Peak RSS (MB) of every process the clusters ever had (the qcluster, its monitor, pusher and workers),
    sampled while the sync runs: a worker replaced after a task (Q_MAX_RSS_MB) keeps its peak here."""

    def __init__(self, roots: list[int]):
        self.roots = roots
        self.peaks: dict[int, float] = {}

    def __call__(self) -> None:
        from sync import process_tree

        for root in self.roots:
            for pid in process_tree(root):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "0")
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), int(hwm) / 1024)


SERVER_COMMANDS = ("postgres", "redis-server")  # the scale-out's database and broker, on these cores too


def server_roots() -> list[int]:
    """The top processes of the PostgreSQL and Redis servers on this machine (a postmaster, not its backends)."""
    commands: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            commands[int(entry.name)] = (head.split("(", 1)[1], int(tail.split()[1]))
    return [pid for pid, (command, parent) in commands.items()
            if command in SERVER_COMMANDS and commands.get(parent, ("", 0))[0] != command]


def rollup_equals_raw() -> bool:
    from django.db.models import Count, Sum

    from integrations.models import StatisticsPoint
    from integrations.sync.agency_rollup import agency_days_read

    raw = {(d, p, m): (t, n) for d, p, m, t, n in StatisticsPoint.objects.filter(profile_id="")
           .values_list("day", "platform", "metric").annotate(t=Sum("value"), n=Count("id")).order_by()}
    kept = {(day, platform, metric): (value, points)
            for platform, metric, day, value, points in agency_days_read(date.min, date.max)}
    return raw == kept


def sync_fleet(args, workdir: str, db_path: str) -> None:
    from django.conf import settings

    from dashboard.devtools.demo import sandbox_agency_connect
    from dashboard.sqlite3.write_hold import totals_read
    from integrations.models import Post, StatisticsPoint, Tag
    from sandbox.client import SandboxControl

    processes = 3 if args.scale_out else 1
    with sandbox_process(seed=1, agencies=1, locations=args.locations, tags=args.tags, days=args.days) as url:
        control = SandboxControl(url)
        state = control.state()
        point_at(url, state, horizon_days=args.days)
        settings.Q_CLUSTER["workers"] = workers() * processes  # a batch per worker of every cluster
        sandbox_agency_connect(control, redirect_uri="http://127.0.0.1/cb")
        ids = {loc["id"] for loc in state["locations"]}
        env = worker_env(args.days)
        hold_dir = "" if args.scale_out else os.path.join(workdir, "write-hold")
        if hold_dir:  # the workers time their write transactions (dashboard/sqlite3/write_hold.py)
            os.makedirs(hold_dir)
            env["SQLITE_WRITE_HOLD_DIR"] = hold_dir
        with ExitStack() as stack:
            clusters = [stack.enter_context(qcluster(env, os.path.join(workdir, f"q{n}.log")))
                        for n in range(processes)]
            control.reset_stats()
            control.add_fault(latency_ms=50)

            def cluster_cpu() -> float:
                return sum(tree_figures(c.pid)[0] for c in clusters)

            def sandbox_cpu_used() -> float:
                return tree_figures(SANDBOX_PIDS[url])[0]

            servers = server_roots() if args.scale_out else []  # SQLite's work is the cluster's own CPU

            def servers_cpu() -> float:
                return sum(tree_figures(pid)[0] for pid in servers)

            cpu_before, sandbox_before, servers_before = cluster_cpu(), sandbox_cpu_used(), servers_cpu()
            holds_before = totals_read(hold_dir) if hold_dir else {}
            peak_watch = PeakWatch([c.pid for c in clusters])
            samples = CpuSamples(time.time(), cluster_cpu, sandbox_cpu_used, time.time)

            def watch() -> None:
                peak_watch()
                if args.timeline:
                    samples()

            wall, units = refresh_all_and_wait(deadline_seconds=args.deadline, watch=watch)
            peak_watch()
            cpu = cluster_cpu() - cpu_before
            sandbox_cpu = sandbox_cpu_used() - sandbox_before
            server_cpu = servers_cpu() - servers_before
            holds = {k: v - holds_before[k] for k, v in totals_read(hold_dir).items()} if hold_dir else {}
            peaks = list(peak_watch.peaks.values())
            stats = control.stats()
        by_location = [r for rid, r in stats["resources"].items() if rid in ids]
        requests = stats["requests"]["total"]
        rate_floor = max(r["count"] for r in by_location) / 10.0
        cores = os.cpu_count() or 1
        per_request = cpu / requests if requests else 0.0
        cpu_floor = requests * per_request / cores
        binding = "CPU" if cpu_floor >= rate_floor else "rate limit"
        failed = [u for u in units if u.status != "succeeded"]
        backend = f"{'PostgreSQL + Redis' if args.scale_out else 'SQLite'}, {processes} qcluster x {workers()} workers"
        print(f"first sync: {args.locations} locations x {args.tags} tags, {args.days} days of statistics, "
              f"50 ms latency; {backend}; {cores} cores")
        print(f"  {Tag.objects.count():,} tags, {Post.objects.count():,} posts, "
              f"{StatisticsPoint.objects.count():,} statistics points stored; {len(units)} units, "
              f"{len(failed)} not succeeded {[(u.kind, u.error[:60]) for u in failed][:3]}")
        figure("backend", backend)
        figure("wall time", f"{wall:.1f} s")
        figure("requests", f"{requests:,}")
        figure("rate-limit floor", f"{rate_floor:.1f} s")
        figure("CPU floor", f"{cpu_floor:.1f} s ({per_request * 1000:.2f} ms CPU per request, {cores} cores)")
        figure("floor that binds", binding)
        # HighLevel's stand-in shares these cores: with it, the cluster cannot finish before the machine floor.
        figure("sandbox CPU (HighLevel's stand-in, same cores)",
               f"{sandbox_cpu:.1f} s ({sandbox_cpu / max(requests, 1) * 1000:.2f} ms per request); machine floor "
               f"(cluster + sandbox CPU / cores) {(cpu + sandbox_cpu) / cores:.1f} s")
        if holds:  # SQLite's one write lock: the cluster's transactions take turns at it
            figure("SQLite write lock held (the cluster's transactions summed)",
                   f"{holds['held_seconds']:.1f} s = {holds['held_seconds'] / wall:.0%} of the wall, "
                   f"{holds['held_cpu_seconds']:.1f} s of it on CPU; {holds['transactions']:,.0f} transactions, "
                   f"{holds['held_seconds'] / max(holds['transactions'], 1) * 1000:.1f} ms each, "
                   f"{holds['waited_seconds'] / max(holds['transactions'], 1) * 1000:.0f} ms waited for it")
        if args.scale_out:  # PostgreSQL and Redis answer the cluster on the same cores
            figure("PostgreSQL + Redis CPU (same cores)",
                   f"{server_cpu:.1f} s ({server_cpu / max(requests, 1) * 1000:.2f} ms per request); machine floor "
                   f"(cluster + sandbox + servers CPU / cores) {(cpu + sandbox_cpu + server_cpu) / cores:.1f} s")
        ratio = wall / max(rate_floor, cpu_floor, 0.001)
        figure("wall / max(floors)", f"{ratio:.2f}", f"<= {RATIO_TARGET}", ratio <= RATIO_TARGET)
        figure("429s", str(stats["rate_limited"]), "0", stats["rate_limited"] == 0)
        figure("units not succeeded", str(len(failed)), "0", not failed)
        figure("peak RSS per cluster process", f"max {max(peaks):.0f} MB of {len(peaks)} (replaced workers too) "
               f"({', '.join(f'{p:.0f}' for p in sorted(peaks, reverse=True))})",
               f"<= {RSS_TARGET_MB} MB", max(peaks) <= RSS_TARGET_MB)
        figure("database size", f"{database_size(db_path):.0f} MB")
        equal = rollup_equals_raw()  # sums every raw point: once
        figure("agency rollup equals the raw points summed", "yes" if equal else "no", "yes", equal)
        if args.timeline:
            from integrations.models import ApiCall

            calls = list(ApiCall.objects.filter(at__gte=datetime.fromtimestamp(samples.start, tz=UTC))
                         .values_list("resource_id", "at").iterator())
            timeline_print(timeline_rows(calls, [(u.kind, u.started_at, u.finished_at) for u in units
                                                 if u.started_at and u.finished_at], samples.start,
                                         samples.shares(WINDOW_SECONDS)))


def agency_pages(runs: int, before=None) -> dict[str, dict]:
    """p95 and queries of the agency-wide pages, and of issue 20's pages on the first location; `before()` runs
    before each timed request (bench/pages.py, `measure`)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from integrations.models import Location

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    today = timezone.now().date()
    year = f"start={today - timedelta(days=364)}&end={today}&compare=previous"
    first = Location.objects.order_by("pk").first().location_id
    pages = {
        "agency statistics page, 365 days": ([f"/statistics/?{year}"], PAGE_TARGET_MS),
        "agency statistics API, 365 days": ([f"/api/v1/statistics/?{year}"], PAGE_TARGET_MS),
        "rankings (API, 365 days)": ([f"/api/v1/statistics/?{year}&rank={metric}"
                                      for metric in ("impressions", "engagement", "followers")], PAGE_TARGET_MS),
        "overview / (goals pacing)": (["/", "/api/v1/locations/"], PAGE_TARGET_MS),
        "scorecard (issue 20)": ([f"/locations/{first}/tags/performance/?range=90d"], 100),
        "heatmap (issue 20)": ([f"/locations/{first}/best-time/?range=90d"], 100),
        "campaign list (issue 20)": (["/campaigns/?range=90d", "/api/v1/campaigns/?range=90d"], 150),
    }
    return {name: {**measure(client, urls, runs, before), "target": target} for name, (urls, target) in pages.items()}


def one_location_synced() -> None:
    """What one location's sync that wrote something leaves: its data versions moved (the views keep answers by
    them, dashboard/selectors/performance_memo.py), so the next view computes that location's part afresh."""
    from integrations.data_versions import STATISTICS, TAGS, versions_move
    from integrations.models import Location

    versions_move(Location.objects.order_by("pk").values_list("pk", flat=True)[0], TAGS, STATISTICS)


def nothing_kept() -> None:
    """A web process just started, or every location synced: nothing kept."""
    from dashboard.selectors.performance_memo import memo_clear

    memo_clear()


def goals_for_every_location() -> None:
    """A goal of every kind for each location, as agencies set them, so the overview paces them all."""
    from integrations.models import Goal, Location

    Goal.objects.bulk_create([Goal(location=loc, kind=kind, target=10) for loc in Location.objects.all()
                              for kind in Goal.Kind.values])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 locations x 200 tags, 30 days")
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL + Redis, 3 qcluster processes")
    parser.add_argument("--database", default="tagscope_bench_agency", help="PostgreSQL database (dropped!)")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis db number (emptied!)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=3600, help="seconds the sync may take")
    parser.add_argument("--pages-only", action="store_true", help="plant the rows directly, time the pages")
    parser.add_argument("--locations", type=int, help="locations (default 200, 20 with --quick)")
    parser.add_argument("--days", type=int, help="days of statistics (default 90, 30 with --quick; "
                        "400 with --pages-only, so the 365-day pages read a full year)")
    parser.add_argument("--timeline", action="store_true", help="print where the sync's wall time went, "
                        "10 s at a time (bench/timeline.py)")
    parser.add_argument("--keep", action="store_true", help="keep every location after timing the pages (no "
                        "second timing at 2 locations), to profile the synced database: with --scale-out it "
                        "stays in --database, with --sqlite-file in that file")
    parser.add_argument("--sqlite-file", help="with --pages-only: plant into this new file and stop (to profile "
                        "it), or time the pages of a file planted so (deleting all but 2 of its locations)")
    args = parser.parse_args()
    locations, args.tags, days = (20, 200, 30) if args.quick else (200, 2000, 90)
    args.locations = args.locations or locations
    args.days = args.days or (400 if args.pages_only and not args.quick else days)
    with tempfile.TemporaryDirectory(prefix="tagscope-agency-") as workdir:
        db_path = args.sqlite_file or os.path.join(workdir, "bench.sqlite3")
        database_url, redis_url = scale_out_services(args.database, args.redis_db) if args.scale_out else ("", "")
        setup_django(db_path, database_url=database_url, redis_url=redis_url)
        if args.pages_only:
            from agency_plant import agency_plant

            from integrations.models import Location

            figure("backend", "PostgreSQL" if args.scale_out else "SQLite")
            if Location.objects.exists():  # --sqlite-file planted before: time its pages (it loses locations)
                figure("planted before", f"{Location.objects.count()} locations")
            else:
                agency_plant(locations=args.locations, tags=args.tags, posts=500 if not args.quick else 50,
                             days=args.days)
                figure("planted", f"{args.locations} locations x {args.tags:,} tags, {args.days} days")
                if args.sqlite_file:
                    return
        else:
            sync_fleet(args, workdir, db_path)
        pages_big_and_small(args.runs, keep=args.keep)


def vacuum_as_autovacuum_would() -> None:
    """PostgreSQL: what autovacuum does within a minute of a sync's end when it is on (the default): the
    tables' dead rows cleared and the planner's statistics taken. This machine's server runs with it off; then
    the pages would read a year's rollup through every version of its rows a sync's folds left behind, with
    the planner guessing at tables it has never analysed."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        setting = cursor.fetchone()[0]
        if setting == "on":
            figure("autovacuum", "on (the server's own)")
            return
        started = time.monotonic()
        cursor.execute("VACUUM (ANALYZE)")
    figure("autovacuum", f"off on this server: VACUUM (ANALYZE) as it would run, {time.monotonic() - started:.1f} s")


def pages_big_and_small(runs: int, *, keep: bool = False) -> None:
    """The agency pages at every location, then at 2 (the others deleted; not with `keep`): p95 against
    targets, and the query counts, which must not change."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from integrations.models import Location

    settings.ALLOWED_HOSTS, settings.MFA_REQUIRED, settings.DEBUG = ["*"], False, False
    get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    goals_for_every_location()
    from integrations.models import AgencyDayChange

    # Moves the sync appended and no fold took yet (a fold waits for a quiet database; the heartbeat takes
    # what is left within a minute): readers add them up row by row, so the pages cost more while they wait.
    figure("agency rollup moves still to fold when the pages are timed", f"{AgencyDayChange.objects.count():,}")
    vacuum_as_autovacuum_would()
    figure("before timing the pages", str(wait_for_quiet()))  # bench/machine_quiet.py: the sync's aftermath
    print(f"\nAgency pages at {Location.objects.count()} locations ({runs} runs of each URL); "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores:", flush=True)
    big = agency_pages(runs)
    figure("load average while timing", f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    # The figures above are views of unchanged data (kept answers, where a page keeps them); the first view
    # after a sync computes: after one location's sync (its part only), and with nothing kept at all.
    after_one = agency_pages(max(2, runs // 2), before=one_location_synced)
    cold = agency_pages(max(2, runs // 5), before=nothing_kept)
    figure("load average while timing the first views", f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    small = None if keep else pages_at_two_locations()
    for name, result in big.items():
        target = result["target"]
        figure(f"{name} p95", f"{result['p95']:.1f} ms ({result['queries']} queries; "
               f"CPU p50 {result['cpu_p50']:.0f} ms)", f"<= {target} ms", result["p95"] <= target)
    for name, result in after_one.items():
        target = result["target"]
        figure(f"{name}, first view after one location's sync, p95", f"{result['p95']:.1f} ms "
               f"({result['queries']} queries; CPU p50 {result['cpu_p50']:.0f} ms)", f"<= {target} ms",
               result["p95"] <= target)
    for name, result in cold.items():
        figure(f"{name}, nothing kept (every location synced), p50", f"{result['p50']:.1f} ms "
               f"({result['queries']} queries; CPU p50 {result['cpu_p50']:.0f} ms)")
    if small is None:
        print("  (--keep: every location kept, so the query counts at 2 locations were not compared)")
        return
    same = {name: (small[name]["queries"], result["queries"]) for name, result in big.items()}
    constant = all(a == b for a, b in same.values())
    figure("query counts constant (2 vs all locations)", "yes" if constant else
           "no: " + ", ".join(f"{n} {a} vs {b}" for n, (a, b) in same.items() if a != b), "yes", constant)


def pages_at_two_locations() -> dict[str, dict]:
    """All but the first 2 locations deleted, the pages timed again (their query counts must not change)."""
    from integrations.models import Location

    started = time.monotonic()
    kept = list(Location.objects.order_by("pk").values_list("pk", flat=True)[:2])
    Location.objects.exclude(pk__in=kept).delete()  # each leaves the rollup (pre_delete), in one transaction
    print(f"  (deleted all but 2 locations in {time.monotonic() - started:.1f} s; "
          f"rollup equals raw: {'yes' if rollup_equals_raw() else 'no'})")
    return agency_pages(2)

if __name__ == "__main__":
    main()
