"""How often does the anomaly detector alarm on the sandbox's history when nothing was planted, and does it
catch a metric that halves?

Runs integrations/attention/detector.py over the numbers the sandbox generates (sandbox/metrics.py, the same
pure functions its statistics endpoint answers from) for every location, platform (and all platforms
together) and metric Tagscope watches (impressions, reach, engagement, followers), on each of the last
`--days` days, and prints:
- false alarms: anomalies found on unplanted days (target 0), and the rate per judged series-day;
- detection: the share of those series-days found anomalous when the day's number is halved (all platforms
  together, the series the demo plants a drop in), which shows the threshold is not simply set out of reach.

    .venv/bin/python bench/anomaly_false_alarms.py                     # 180 days, seeds 1..3, 8 locations
    .venv/bin/python bench/anomaly_false_alarms.py --days 180 --seeds 1 --locations 20 --threshold 3.5
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integrations.attention.detector import WINDOW_DAYS, detect
from sandbox.config import SandboxConfig
from sandbox.metrics import day_metrics
from sandbox.state import Sandbox

WATCHED = ("impressions", "reach", "engagement", "followers")


def location_series(sb: Sandbox, location_id: str, days: int) -> dict[tuple[str, str], dict]:
    """{(platform or '', metric): {date: value}} over the last `days` + the baseline window, before today."""
    config, anchor = sb.config, sb.anchor_day
    out: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(float))
    for account in sb.location(location_id).accounts:
        for offset in range(-(days + WINDOW_DAYS + 1), 0):
            day = anchor + timedelta(days=offset)
            values = day_metrics(config.seed, account["profileId"], account["platform"], config.days, offset,
                                 day.weekday())
            values["engagement"] = sum(values.get(m, 0) for m in ("likes", "comments", "shares"))
            for metric in WATCHED:
                if metric in values:
                    for platform in (account["platform"], ""):
                        out[(platform, metric)][day] += values[metric]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seeds", type=int, default=3, help="sandbox seeds 1..N")
    parser.add_argument("--locations", type=int, default=8)
    parser.add_argument("--threshold", type=float, default=float(os.environ.get("ANOMALY_THRESHOLD", 4.0)))
    parser.add_argument("--min-change-pct", type=float, default=float(os.environ.get("ANOMALY_MIN_CHANGE_PCT", 30)))
    args = parser.parse_args()
    judged = alarms = halved = caught = 0
    by_metric: Counter[str] = Counter()
    caught_by: Counter[str] = Counter()
    halved_by: Counter[str] = Counter()
    for seed in range(1, args.seeds + 1):
        sb = Sandbox(SandboxConfig(seed=seed, locations=args.locations, days=args.days + WINDOW_DAYS + 30,
                                   now="2026-06-01T12:00:00Z"))
        for location_id in sb.skeleton.locations:
            for (platform, metric), series in location_series(sb, location_id, args.days).items():
                running = metric == "followers"
                for offset in range(1, args.days + 1):
                    day = sb.anchor_day - timedelta(days=offset)
                    judged += 1
                    found = detect(series, day, threshold=args.threshold, min_change=args.min_change_pct / 100,
                                   running_count=running)
                    if found is not None:
                        alarms += 1
                        by_metric[f"{platform or 'all'}/{metric} {found.direction}"] += 1
                    if platform == "" and not running:
                        halved += 1
                        halved_by[metric] += 1
                        planted = {**series, day: series[day] * 0.5}
                        hit = detect(planted, day, threshold=args.threshold,
                                     min_change=args.min_change_pct / 100) is not None
                        caught += hit
                        caught_by[metric] += hit
    print(f"threshold {args.threshold:g} robust sd, least change {args.min_change_pct:g}%; "
          f"{args.seeds} seed(s) x {args.locations} locations x {args.days} days")
    print(f"false alarms: {alarms} in {judged:,} series-days ({100.0 * alarms / max(judged, 1):.3f}%)")
    for name, count in by_metric.most_common(10):
        print(f"  {name}: {count}")
    print(f"halved days caught (all platforms): {caught} of {halved} ({100.0 * caught / max(halved, 1):.1f}%)")
    for metric, count in sorted(halved_by.items()):
        print(f"  {metric}: {caught_by[metric]} of {count} ({100.0 * caught_by[metric] / count:.1f}%)")


if __name__ == "__main__":
    main()
