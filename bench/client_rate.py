"""How close to HighLevel's burst limit does the client run, and does it ever earn a 429?

Drives several threads of HighLevelClient (one client and one limiter instance each, as separate workers
would have) against an in-process sandbox for a bounded time, all on one location's bucket, and prints:
requests per window, the most requests the sandbox saw in any sliding window, and 429s. It asserts nothing.

    .venv/bin/python bench/client_rate.py                       # 100 per 10 s, 25 s, database limiter
    .venv/bin/python bench/client_rate.py --burst 20 --window 1 --seconds 6 --limiter memory
    .venv/bin/python bench/client_rate.py --limiter redis       # needs Redis at 127.0.0.1:6379

The database limiter runs on a throwaway SQLite file, migrated at start and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter

from common import setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=100, help="requests per window (sandbox and limiter)")
    parser.add_argument("--window", type=float, default=10.0, help="window in seconds")
    parser.add_argument("--seconds", type=float, default=25.0, help="how long to drive the client")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--limiter", choices=("database", "memory", "redis"), default="database")
    parser.add_argument("--margin", type=float, default=0.25, help="limiter safety margin added to the window")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="tagscope-bench-")
    setup_django(os.path.join(workdir, "bench.sqlite3"))

    from django.db import connection

    from integrations.clients.limiter_db import DatabaseRateLimiter
    from integrations.highlevel.client import HighLevelClient
    from integrations.highlevel.config import ClientConfig
    from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
    from integrations.highlevel.ratelimit_redis import RedisRateLimiter
    from integrations.highlevel.recording import MemoryRecorder
    from sandbox.client import SandboxControl
    from sandbox.config import SandboxConfig
    from sandbox.server import SandboxServer

    server = SandboxServer(SandboxConfig(seed=1, agencies=1, locations=1, tags=50, days=14,
                                         burst_limit=args.burst, burst_window_ms=int(args.window * 1000))).start()
    control = SandboxControl(server.url)
    state = control.state()
    location = state["locations"][0]["id"]
    token = state["private_integration_tokens"][location]
    limits = {"limit": args.burst, "window": args.window, "margin": args.margin}
    shared_memory = MemoryRateLimiter(**limits)
    redis_prefix = f"tagscope-bench:{uuid.uuid4().hex}"

    def make_limiter():
        if args.limiter == "memory":
            return shared_memory  # one process: threads share the instance
        if args.limiter == "redis":
            return RedisRateLimiter(url="redis://127.0.0.1:6379/0", prefix=redis_prefix, **limits)
        return DatabaseRateLimiter(**limits)

    recorders: list[MemoryRecorder] = []
    deadline = time.time() + args.seconds
    started = time.time()

    def worker() -> None:
        recorder = MemoryRecorder()
        recorders.append(recorder)
        config = ClientConfig(base_url=server.url, client_id=state["client_id"],
                              client_secret=state["client_secret"], max_retries=3)
        client = HighLevelClient(config, lambda: token, limiter=make_limiter(), recorder=recorder)
        try:
            while time.time() < deadline:
                client.list_accounts(location)
        finally:
            client.session.close()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - started

    calls = [c for r in recorders for c in r.calls]
    per_window = Counter(int((c.at.timestamp() - started) // args.window) for c in calls)
    stats = control.stats()
    resource = stats["resources"].get(location, {})
    statuses = Counter(c.status for c in calls)

    print(f"limiter={args.limiter} threads={args.threads} burst={args.burst}/{args.window:g}s "
          f"margin={args.margin:g}s ran={elapsed:.1f}s")
    print("requests per window (by send time): " + ", ".join(
        f"w{i}={per_window.get(i, 0)}" for i in range(max(per_window) + 1 if per_window else 0)))
    print(f"requests sent: {len(calls)}  ({len(calls) / elapsed:.2f}/s; the limit allows "
          f"{args.burst / args.window:.2f}/s)")
    print(f"sandbox: requests={resource.get('count')} max in any {args.window:g}s window={resource.get('max_burst')} "
          f"(limit {args.burst})  429s={stats['rate_limited']}")
    print(f"client saw statuses: {dict(statuses)}")

    server.stop()
    if args.limiter == "redis":
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for name in client.scan_iter(f"{redis_prefix}:*"):
            client.delete(name)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
