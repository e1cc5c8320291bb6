"""Where the sync's CPU goes: bench/sync.py's first sync (20 locations x 2,000 tags, 90 days; --quick: 5 x
500, 30 days), its units run in this one process under a CPU-clock profile of every thread.

    .venv/bin/python bench/sync_profile.py [--quick] [--top 40] [--save FILE]

The sandbox runs in its own process, as in bench/sync.py (its CPU is not Tagscope's). The units are planned
as "Refresh all" plans them and run as the default qcluster runs its batches (a thread per batch calling
services.units_execute, which gives each unit a thread and each unit its lanes), here in one process so one
profile sees them all. cProfile (standard library) with a per-thread CPU clock (`time.thread_time`) is
started in every thread: waiting on HighLevel or on the rate limit costs nothing, only CPU work is counted.
The profiler's own overhead inflates the totals (about 2 to 3 times); the shares are what it is for.
Prints the CPU per request without the profiler (a first run) and the top frames by cumulative and by
own time of the profiled run (a second, identical sync on a fresh database).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import threading
import time

from common import setup_django
from sync import point_at, sandbox_process, workers

PROFILES: list[cProfile.Profile] = []
_profiles_lock = threading.Lock()


def profile_every_thread() -> None:
    """Every thread started from now on runs under a profile of its own CPU time (collected in PROFILES)."""
    run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        with _profiles_lock:
            PROFILES.append(profile)
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()

    threading.Thread.run = profiled_run  # type: ignore[method-assign]


def one_sync(url: str, state: dict, days: int) -> tuple[float, int]:
    """Plan every location's units and run them in workers() batches side by side; (CPU seconds, requests)."""
    from django.conf import settings

    from dashboard.devtools.demo import sandbox_agency_connect
    from integrations.models import Connection, SyncRun
    from integrations.sync.scheduling import batches_plan
    from integrations.sync.services import bulk_plan, locations_interleaved, units_execute
    from sandbox.client import SandboxControl

    control = SandboxControl(url)
    Connection.objects.all().delete()
    point_at(url, state, horizon_days=days)
    sandbox_agency_connect(control, redirect_uri="http://127.0.0.1/cb")
    _, _, units = bulk_plan(locations_interleaved(), kind=SyncRun.Kind.ALL, trigger="bench")
    batches = batches_plan([u.pk for u in units], per_task=settings.SYNC_UNITS_PER_TASK, workers=workers())
    control.reset_stats()
    control.clear_faults()
    control.add_fault(latency_ms=50)
    started = time.process_time()
    threads = [threading.Thread(target=units_execute, kwargs={"run_ids": batch}) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - started
    failed = SyncRun.objects.filter(pk__in=[u.pk for u in units]).exclude(status="succeeded").count()
    if failed:
        print(f"  ({failed} units did not succeed)")
    return cpu, control.stats()["requests"]["total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", help="write the merged profile (pstats) to this file")
    parser.add_argument("--no-profile", action="store_true", help="only the first sync, without the profiler")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tagscope-profile-") as workdir:
        profile(args, os.path.join(workdir, "profile.sqlite3"))


def profile(args: argparse.Namespace, db_path: str) -> None:
    setup_django(db_path)
    from django.conf import settings
    from django.core.management import call_command

    settings.Q_CLUSTER["workers"] = workers()
    locations, tags, days = (5, 500, 30) if args.quick else (20, 2000, 90)
    with sandbox_process(seed=1, agencies=1, locations=locations, tags=tags, days=days) as url:
        from sandbox.client import SandboxControl

        state = SandboxControl(url).state()
        cpu, requests = one_sync(url, state, days)
        print(f"first sync, {locations} locations x {tags} tags, {days} days, in one process without the "
              f"profiler: {cpu:.1f} s CPU, {requests} requests, {cpu / requests * 1000:.2f} ms per request")
        if args.no_profile:
            return
        call_command("flush", verbosity=0, interactive=False)  # the limiter's slots too: so wait out
        time.sleep(11)  # the sandbox's 10 s window of the first sync, or the second one starts with 429s
        profile_every_thread()
        cpu, requests = one_sync(url, state, days)
        print(f"the same under the profiler: {cpu:.1f} s CPU, {cpu / requests * 1000:.2f} ms per request")
    stats = pstats.Stats(*PROFILES)
    if args.save:
        stats.dump_stats(args.save)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)

if __name__ == "__main__":
    main()
