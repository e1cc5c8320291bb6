"""Run every benchmark in bench/ as a subprocess, show its output, then one table of figures against targets.

    .venv/bin/python bench/run_all.py            # what `make bench` runs (several minutes)
    .venv/bin/python bench/run_all.py --quick    # the smaller runs of the benchmarks that have one
    .venv/bin/python bench/run_all.py --only sync pages

Figures are read from each benchmark's printed lines (the scripts print figures and their targets and
assert nothing). A benchmark this file does not know yet is still run, and its lines that mention a target
are listed as they are. Exits 1 when a benchmark failed to run or a figure misses its target.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NUMBER = r"([-\d.,]+)"


@dataclass
class Figure:
    bench: str
    name: str
    value: str
    target: str = "-"
    ok: bool | None = None  # None: no target to meet


def num(text: str) -> float:
    return float(text.replace(",", ""))


# --- what each benchmark prints ---------------------------------------------------------------------
def client_rate_figures(bench: str, out: str) -> list[Figure]:
    figures = []
    sent = re.search(rf"requests sent: (\d+)\s+\({NUMBER}/s; the limit allows {NUMBER}/s\)", out)
    if sent:
        rate, allowed = num(sent.group(2)), num(sent.group(3))
        figures.append(Figure(bench, "requests per second", f"{rate:.2f}/s ({rate / allowed:.0%} of the limit)",
                              f"<= {allowed:.2f}/s", rate <= allowed * 1.01))
    window = re.search(r"max in any (\S+)s window=(\d+) \(limit (\d+)\)\s+429s=(\d+)", out)
    if window:
        seen, limit = int(window.group(2)), int(window.group(3))
        figures.append(Figure(bench, f"max requests in any {window.group(1)} s window", str(seen), f"<= {limit}",
                              seen <= limit))
        figures.append(Figure(bench, "429s", window.group(4), "0", window.group(4) == "0"))
    return figures


def sandbox_figures(bench: str, out: str) -> list[Figure]:
    figures = []
    if m := re.search(rf"start-up: {NUMBER} ms for (\d+) locations", out):
        figures.append(Figure(bench, f"start-up ({m.group(2)} locations)", f"{m.group(1)} ms"))
    if m := re.search(rf"first touch of a location \((\d+) tags\): median {NUMBER} ms, max {NUMBER} ms", out):
        figures.append(Figure(bench, f"first touch of a location ({m.group(1)} tags), max", f"{m.group(3)} ms"))
    if m := re.search(rf"tag pages with (\d+) clients: (\d+) req/s, p50 {NUMBER} ms, p95 {NUMBER} ms", out):
        figures.append(Figure(bench, f"tag pages, {m.group(1)} clients", f"{m.group(2)} req/s, p95 {m.group(4)} ms"))
    return figures


def sync_figures(bench: str, out: str) -> list[Figure]:
    figures = []
    if m := re.search(r"first sync: (.+?), 50 ms latency", out):
        figures.append(Figure(bench, "first sync of", m.group(1)))
    if m := re.search(rf"wall time\s+{NUMBER} s", out):
        figures.append(Figure(bench, "first sync wall time", f"{m.group(1)} s"))
    if m := re.search(rf"ratio wall/floor\s+{NUMBER}\s+target <= {NUMBER}", out):
        figures.append(Figure(bench, "wall time / rate-limit floor", m.group(1), f"<= {m.group(2)}",
                              num(m.group(1)) <= num(m.group(2))))
    if m := re.search(rf"cluster CPU\s+{NUMBER} s\s+\({NUMBER} ms per request, target <= {NUMBER}", out):
        figures.append(Figure(bench, "cluster CPU per HighLevel request (first sync)", f"{m.group(2)} ms",
                              f"<= {m.group(3)} ms", num(m.group(2)) <= num(m.group(3))))
    if m := re.search(rf"sandbox CPU\s+{NUMBER} s\s+\({NUMBER} ms per request.*?cluster / sandbox CPU {NUMBER}", out):
        figures.append(Figure(bench, "sandbox CPU per request (the machine's speed; cluster / sandbox)",
                              f"{m.group(2)} ms ({m.group(3)})"))
    for label, pattern in (("429s during the first sync", r"429s seen\s+(\d+)"),
                           ("units not succeeded", r"units not succeeded\s+(\d+)"),
                           ("rows written by a second, unchanged sync", r"rows written (\d+)\s+target 0")):
        if m := re.search(pattern, out):
            figures.append(Figure(bench, label, m.group(1), "0", m.group(1) == "0"))
    if m := re.search(r"worker syncing one location of (\d+) tags: (\S+)", out):
        figures.append(Figure(bench, f"worker syncing {m.group(1)} tags", m.group(2).rstrip(","), "succeeded",
                              m.group(2).startswith("succeeded")))
    if m := re.search(rf"peak RSS\s+{NUMBER} MB\s+target <= {NUMBER} MB", out):
        figures.append(Figure(bench, "peak RSS of that worker (memory)", f"{m.group(1)} MB", f"<= {m.group(2)} MB",
                              num(m.group(1)) <= num(m.group(2))))
    return figures


def pages_figures(bench: str, out: str) -> list[Figure]:
    figures = []
    shown = re.compile(rf"^\s+(?P<name>\S.*?)\s+p50\s+{NUMBER} ms\s+p95\s+{NUMBER} ms\s+queries\s+(\d+)"
                       rf".*?(?:target p95 <= {NUMBER} ms)?$")
    for line in out.splitlines():
        m = shown.match(line)
        if m and m.group(5):
            p95, target = num(m.group(3)), num(m.group(5))
            figures.append(Figure(bench, f"{m.group('name')} p95", f"{p95:.1f} ms ({m.group(4)} queries)",
                                  f"<= {m.group(5)} ms", p95 <= target))
    if m := re.search(rf"speed-up over the admin changelist: p50 {NUMBER}x, p95 {NUMBER}x\s+\(target >= {NUMBER}x\)",
                      out):
        figures.append(Figure(bench, "tag list speed-up over the admin (p95)", f"{m.group(2)}x", f">= {m.group(3)}x",
                              num(m.group(2)) >= num(m.group(3))))
    return figures


def performance_figures(bench: str, out: str) -> list[Figure]:
    figures = pages_figures(bench, out)
    if m := re.search(rf"campaign list right after a sync \(summed again\): p50 {NUMBER} ms, max {NUMBER} ms", out):
        figures.append(Figure(bench, "campaign list right after a sync (not kept)", f"p50 {m.group(1)} ms, "
                              f"max {m.group(2)} ms"))
    if m := re.search(r"query counts constant: (\w+)", out):
        figures.append(Figure(bench, "query counts constant (small vs big location)", m.group(1), "yes",
                              m.group(1) == "yes"))
    return figures


def lifecycle_figures(bench: str, out: str) -> list[Figure]:
    figures = []
    if m := re.search(r"agency: (\d+) locations.*?; (\d+) days", out):
        figures.append(Figure(bench, "simulated", f"{m.group(1)} locations, {m.group(2)} days"))
    if m := re.search(r"tables bounded: (\d+) of (\d+)", out):
        figures.append(Figure(bench, "tables that stopped growing", f"{m.group(1)} of {m.group(2)}",
                              f"{m.group(2)} of {m.group(2)}", m.group(1) == m.group(2)))
    if m := re.search(rf"nightly prune: {NUMBER} s at most over the last 7 nights.*?target < {NUMBER} s", out):
        figures.append(Figure(bench, "nightly prune (SQLite, worst of the last 7 nights)", f"{m.group(1)} s",
                              f"< {m.group(2)} s", num(m.group(1)) < num(m.group(2))))
    if m := re.search(r"database size: (\S+ MB) after (\d+) days", out):
        figures.append(Figure(bench, f"database size after {m.group(2)} days", m.group(1)))
    if m := re.search(rf"table sizes \(dbstat\) measured in {NUMBER} s", out):
        figures.append(Figure(bench, "measuring table sizes (dbstat)", f"{m.group(1)} s"))
    return figures


def anomaly_figures(bench: str, out: str) -> list[Figure]:
    figures = []
    if m := re.search(rf"false alarms: {NUMBER} in {NUMBER} series-days", out):
        figures.append(Figure(bench, f"false alarms in {m.group(2)} unplanted series-days", m.group(1), "0",
                              num(m.group(1)) == 0))
    if m := re.search(r"halved days caught \(all platforms\): (.+)", out):
        figures.append(Figure(bench, "halved days caught (all platforms)", m.group(1).strip()))
    return figures


def count_lines(bench: str, out: str) -> list[Figure]:
    """A benchmark that counts and has no target (bench/statistics_requests.py): that it ran is the figure."""
    return []


def figure_lines(bench: str, out: str) -> list[Figure]:
    """Lines `figure: name | value | target | ok|missed|-` (bench/agency.py prints its figures so)."""
    figures = []
    for m in re.finditer(r"^figure: (.+?) \| (.+?) \| (.+?) \| (ok|missed|-)$", out, re.MULTILINE):
        figures.append(Figure(bench, m.group(1), m.group(2), m.group(3), {"ok": True, "missed": False}.get(m.group(4))))
    return figures


def target_lines(bench: str, out: str) -> list[Figure]:
    """A benchmark this file does not know: its lines that mention a target, as they are."""
    return [Figure(bench, line.strip()[:90], "see line") for line in out.splitlines() if "target" in line]


@dataclass
class Bench:
    name: str
    args: list[str]
    figures: Callable[[str, str], list[Figure]]
    quick: list[str] | None = None  # the arguments for --quick
    needs_redis: bool = False


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


KNOWN = {
    "anomaly_false_alarms.py": [Bench("anomaly_false_alarms", [], anomaly_figures, quick=["--seeds", "1"])],
    "statistics_requests.py": [Bench("statistics_requests", [], count_lines)],
    "client_rate.py": [
        Bench("client_rate (database limiter)", ["--limiter", "database"], client_rate_figures,
              quick=["--limiter", "database", "--burst", "20", "--window", "2", "--seconds", "6"]),
        Bench("client_rate (redis limiter)", ["--limiter", "redis"], client_rate_figures,
              quick=["--limiter", "redis", "--burst", "20", "--window", "2", "--seconds", "6"], needs_redis=True),
    ],
    "sandbox_throughput.py": [Bench("sandbox_throughput", [], sandbox_figures,
                                    quick=["--clients", "4", "--requests", "20", "--locations", "4", "--tags", "500"])],
    "sandbox_cpu.py": [Bench("sandbox_cpu", [], figure_lines, quick=["--locations", "3"])],
    "sync.py": [Bench("sync", [], sync_figures, quick=["--quick"])],
    "pages.py": [Bench("pages", [], pages_figures, quick=["--quick", "--runs", "5"])],
    "performance.py": [Bench("performance", [], performance_figures, quick=["--quick", "--runs", "5"])],
    "lifecycle.py": [Bench("lifecycle", [], lifecycle_figures, quick=["--quick"])],
    "agency.py": [
        Bench("agency (SQLite)", [], figure_lines, quick=["--quick", "--runs", "5"]),
        Bench("agency (PostgreSQL + Redis)", ["--scale-out"], figure_lines,
              quick=["--quick", "--scale-out", "--runs", "5"], needs_redis=True),
        # The agency pages on 200 locations' rows planted directly (the sync above takes over 10 minutes).
        Bench("agency pages (SQLite)", ["--pages-only"], figure_lines,
              quick=["--pages-only", "--quick", "--runs", "5"]),
        Bench("agency pages (PostgreSQL)", ["--pages-only", "--scale-out"], figure_lines,
              quick=["--pages-only", "--quick", "--scale-out", "--runs", "5"], needs_redis=True),
    ],
    "million.py": [
        # The refresh at 100,000 tags: its peak RSS is flat in the tags (docs/performance.md), its first sync is not.
        Bench("million (SQLite)", ["--refresh", "--refresh-tags", "100000"], figure_lines,
              quick=["--tags", "100000", "--runs", "3"]),
        Bench("million (PostgreSQL)", ["--scale-out", "--refresh", "--refresh-tags", "100000"], figure_lines,
              quick=["--scale-out", "--tags", "100000", "--runs", "3"]),
    ],
}


def plan(quick: bool, only: list[str]) -> list[tuple[Path, Bench]]:
    runs = []
    for script in sorted(BENCH.glob("*.py")):
        # sync_profile.py: a CPU profile to read, no figures against targets
        if script.name in ("sync_profile.py", Path(__file__).name) or not is_benchmark(script):
            continue
        if only and script.stem not in only:
            continue
        for bench in KNOWN.get(script.name, [Bench(script.stem, [], target_lines)]):
            runs.append((script, bench))
    return runs


def is_benchmark(script: Path) -> bool:
    """A script to run, not a module the benchmarks share (common.py, agency_plant.py, timeline.py): run as
    a program they print nothing and end at once, and the table counted each as a benchmark that failed."""
    return 'if __name__ == "__main__":' in script.read_text()


def outcome(bench: Bench, out: str, code: int | str) -> tuple[list[Figure], bool]:
    """A run's figures, and whether the run itself failed: it did not exit 0, or a benchmark whose figures
    this file reads printed none of them. A benchmark with no target (count_lines) ran when it exited 0."""
    found = bench.figures(bench.name, out)
    failed = code != 0 or (not found and bench.figures is not count_lines)
    if failed:
        tail = out.strip().splitlines()[-1:]
        found.append(Figure(bench.name, "run", f"exit {code}: {' '.join(tail)[:80]}", "exit 0", False))
    elif not found:
        found.append(Figure(bench.name, "run", "exit 0 (counts only: see its output)"))
    return found, failed


def render(figures: list[Figure]) -> list[str]:
    rows = [("benchmark", "figure", "value", "target", "")] + [
        (f.bench, f.name, f.value, f.target, {True: "ok", False: "MISSED", None: ""}[f.ok]) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return lines


def run(command: list[str], timeout: float) -> tuple[str, int | str]:
    """Run one benchmark, echoing its output as it comes; (its output, exit code or "timeout")."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    lines = []
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        code = process.wait()
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
    return "".join(lines), "timeout" if timed_out and code != 0 else code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the smaller runs, for a quick look")
    parser.add_argument("--only", nargs="*", default=[], help="script names without .py, e.g. sync pages")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    args = parser.parse_args()
    figures: list[Figure] = []
    failed = False
    for script, bench in plan(args.quick, args.only):
        if bench.needs_redis and not redis_answers():
            figures.append(Figure(bench.name, "skipped", "Redis not answering on 127.0.0.1:6379"))
            continue
        argv = (bench.quick if args.quick and bench.quick is not None else bench.args)
        command = [sys.executable, str(script.relative_to(ROOT)), *argv]
        print(f"== {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        out, code = run(command, args.timeout)
        took = time.monotonic() - started
        found, run_failed = outcome(bench, out, code)
        failed = failed or run_failed
        figures.extend(found)
        figures.append(Figure(bench.name, "benchmark run time", f"{took:.0f} s"))
        print(f"   ({took:.0f} s)\n", flush=True)
    print(f"== figures against targets{' (--quick runs)' if args.quick else ''}")
    for line in render(figures):
        print(line)
    missed = [f for f in figures if f.ok is False]
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
