"""How much CPU does the sandbox spend per request in the agency sync's mix? (It shares the cores with the
cluster in bench/agency.py, so its CPU bounds that benchmark's wall time: docs/performance.md.)

    .venv/bin/python bench/sandbox_cpu.py                        # 10 locations x 2,000 tags, 90 days, 8 connections
    .venv/bin/python bench/sandbox_cpu.py --connections 32 --latency 50   # as the agency run: 50 ms per answer

The sandbox runs in a process of its own (as in bench/agency.py), with a burst limit no client reaches, and is
asked what a first sync asks of each location, in the same mix (recorded from `bench/agency.py --locations 10`):
its accounts and details (twice), its tags in pages of 100, their details in batches of 50, its posts of
the statistics horizon (v3) in pages of 100, and v3 statistics: the horizon and the period before it for all
accounts and for each, then every day of the horizon alone for all accounts and for each (the breakdowns),
nearly nine requests in ten. The location's data is made on its first request, as in a sync, so that is
counted too. Prints the sandbox's CPU per request (user + system, from /proc) and the load average, and a
`figure:` line for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.config import SandboxConfig  # noqa: E402
from sandbox.state import Sandbox  # noqa: E402

SERVE = """
import sys
sys.path.insert(0, {root!r})
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
config = SandboxConfig(seed=1, agencies=1, locations={locations}, tags={tags}, days={days}, burst_limit=10**9,
                       daily_limit=10**9)
server = SandboxServer(config, port={port})
print("ready", flush=True)
server.serve_forever()
"""


def cpu_seconds(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def _day(moment: datetime, end: bool = False) -> str:
    return moment.strftime("%Y-%m-%dT") + ("23:59:59.999Z" if end else "00:00:00.000Z")


def location_requests(world, location: dict, horizon: int) -> list[tuple]:
    """(token, method, path, body, version) of one location's first sync, in the sync's order. `world` is the
    same seeded sandbox in this process: it tells the profiles and tag ids without asking the measured one."""
    token = location["pit"]
    lid = location["id"]
    made = world.location(lid)
    profiles = [a["profileId"] for a in made.accounts]
    tag_ids = list(made.tags)
    today = datetime.now(UTC)
    first = today - timedelta(days=horizon - 1)
    requests: list[tuple] = [("GET", f"/social-media-posting/{lid}/accounts", None, "2021-07-28"),
                             ("GET", f"/locations/{lid}", None, "2021-07-28")] * 2
    requests += [("GET", f"/social-media-posting/{lid}/tags?skip={skip}&limit=100", None, "2021-07-28")
                 for skip in range(0, 2100, 100)]
    requests += [("POST", f"/social-media-posting/{lid}/tags/details", {"tagIds": tag_ids[skip:skip + 50]},
                  "2021-07-28") for skip in range(0, len(tag_ids), 50)]
    window = {"fromDate": _day(first), "toDate": _day(today + timedelta(days=30), end=True), "includeUsers": "false"}
    requests += [("POST", f"/social-media-posting/{lid}/posts/list", {**window, "skip": str(skip), "limit": "100"},
                  "v3") for skip in range(0, 600, 100)]
    stats = f"/social-media-posting/statistics?locationId={lid}"
    ranges = {"currentRange": {"startDate": _day(first), "endDate": _day(today, end=True)},
              "prevRange": {"startDate": _day(first - timedelta(days=horizon)),
                            "endDate": _day(first - timedelta(days=1), end=True)}}
    for chosen in [profiles, *([p] for p in profiles)]:
        requests.append(("POST", stats, {"profileIds": chosen, **ranges}, "v3"))
    for n in range(horizon):
        day = today - timedelta(days=n)
        one = {"currentRange": {"startDate": _day(day), "endDate": _day(day, end=True)}}
        for chosen in [profiles, *([p] for p in profiles)]:
            requests.append(("POST", stats, {"profileIds": chosen, **one}, "v3"))
    return [(token, *r) for r in requests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--tags", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--latency", type=int, default=0, help="ms the sandbox waits before each answer")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = SERVE.format(root=str(ROOT), locations=args.locations, tags=args.tags, days=args.days + 30, port=port)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        process.stdout.readline()
        control = http.client.HTTPConnection("127.0.0.1", port)
        control.request("GET", "/_sandbox/state")
        state = json.loads(control.getresponse().read())
        if args.latency:
            control.request("POST", "/_sandbox/faults", body=json.dumps({"latency_ms": args.latency}),
                            headers={"Content-Type": "application/json"})
            control.getresponse().read()
        control.close()
        work: queue.Queue = queue.Queue()
        world = Sandbox(SandboxConfig(seed=1, agencies=1, locations=args.locations, tags=args.tags,
                                      days=args.days + 30))
        for location in state["locations"]:
            for request in location_requests(world, location, args.days):
                work.put(request)
        user0, system0 = cpu_seconds(process.pid)
        statuses: dict[int, int] = {}
        count = work.qsize()
        started = time.monotonic()
        threads = [threading.Thread(target=_client, args=(port, work, statuses)) for _ in range(args.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        user, system = (a - b for a, b in zip(cpu_seconds(process.pid), (user0, system0), strict=True))
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"{count} requests ({args.locations} locations x {args.tags} tags, {args.days} days), {args.connections} "
          f"connections, {args.latency} ms latency: {wall:.1f} s, statuses {statuses}")
    print(f"sandbox CPU per request: {(user + system) / count * 1000:.3f} ms (user {user / count * 1000:.3f}, "
          f"system {system / count * 1000:.3f}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"figure: sandbox CPU per request, agency mix ({args.connections} connections, {args.latency} ms latency) | "
          f"{(user + system) / count * 1000:.3f} ms (load {os.getloadavg()[0]:.1f}) | - | -")


def _client(port: int, work: queue.Queue, statuses: dict[int, int]) -> None:
    """One kept connection, asking until the queue is empty."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        try:
            token, method, path, body, version = work.get_nowait()
        except queue.Empty:
            break
        headers = {"Authorization": f"Bearer {token}", "Version": version, "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        answer = conn.getresponse()
        answer.read()
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    conn.close()


if __name__ == "__main__":
    main()
