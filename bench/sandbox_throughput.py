"""How fast the HighLevel sandbox answers: start-up, lazy generation, and tag listing under concurrency.

    .venv/bin/python bench/sandbox_throughput.py [--clients 16] [--requests 50] [--locations 20] [--tags 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--tags", type=int, default=2000)
    args = parser.parse_args()

    started = time.perf_counter()
    config = SandboxConfig(locations=args.locations, tags=args.tags, burst_limit=10**6, daily_limit=10**9)
    server = SandboxServer(config).start()
    print(f"start-up: {(time.perf_counter() - started) * 1000:.1f} ms for {args.locations} locations")
    state = requests.get(f"{server.url}/_sandbox/state", timeout=10).json()
    locations = state["locations"]

    first_touch = []
    for location in locations:
        t0 = time.perf_counter()
        requests.get(f"{server.url}/_sandbox/locations/{location['id']}/tags", timeout=30).raise_for_status()
        first_touch.append(time.perf_counter() - t0)
    print(f"first touch of a location ({args.tags} tags): median {statistics.median(first_touch) * 1000:.1f} ms, "
          f"max {max(first_touch) * 1000:.1f} ms")

    def client(index: int) -> list[float]:
        location = locations[index % len(locations)]
        headers = {"Authorization": f"Bearer {location['pit']}", "Version": "2021-07-28"}
        latencies = []
        with requests.Session() as http:
            for n in range(args.requests):
                t0 = time.perf_counter()
                answer = http.get(f"{server.url}/social-media-posting/{location['id']}/tags", headers=headers,
                                  params={"limit": "100", "skip": str((n * 100) % args.tags)}, timeout=30)
                answer.raise_for_status()
                latencies.append(time.perf_counter() - t0)
        return latencies

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        latencies = [x for batch in pool.map(client, range(args.clients)) for x in batch]
    elapsed = time.perf_counter() - t0
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    print(f"{len(latencies)} tag pages with {args.clients} clients: {len(latencies) / elapsed:.0f} req/s, "
          f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    server.stop()


if __name__ == "__main__":
    main()
