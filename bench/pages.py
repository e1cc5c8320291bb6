"""How fast are the browsing pages on a big location? Server time and query counts, in process.

    .venv/bin/python bench/pages.py            # 50,000 tags; 365 days x 7 platforms x 10 accounts each
    .venv/bin/python bench/pages.py --quick    # 10,000 tags; 90 days x 7 platforms x 2 accounts each

A throwaway SQLite file holds the rows (made directly, as the tests' factories do). Each request goes
through Django's test client (middleware, view, template or JSON) and is timed; p50/p95 over the runs.
The same tag list (search, sort, a deep page) is also read through the Django admin's changelist for Tag
(search on name) for comparison. Prints figures and the targets; asserts nothing.

Targets: tag list p95 <= 50 ms and >= 5x faster than the admin changelist; statistics JSON p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta

from common import setup_django


def populate(tags: int, days: int, per_platform: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tests.dashboard.browsing_factories import accounts_make, location_make, statistics_make, tags_bulk

    started = time.perf_counter()
    location = location_make("bench-location", "Bench Bakery")
    tags_bulk(location, tags)
    accounts = accounts_make(location, per_platform=per_platform)
    statistics_make(location, end=timezone.now().date(), days=days, accounts=accounts)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    print(f"made {tags:,} tags, {len(accounts)} accounts x {days} days of statistics in "
          f"{time.perf_counter() - started:.1f} s")
    return location, user, accounts


def measure(client, urls: list[str], runs: int, before=None) -> dict:
    """p50/p95 wall, queries and the process's CPU of `runs` GETs of each URL, after one untimed GET of each;
    `before()`, when given, runs before each timed GET (untimed): what the view must not find kept."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls:  # warm caches and templates
        assert client.get(url).status_code == 200, url
    times, queries, cpu = [], [], []
    for _ in range(runs):
        for url in urls:
            if before is not None:
                before()
            with CaptureQueriesContext(connection) as captured:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(url)
                if response.streaming:
                    b"".join(response.streaming_content)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)  # this process only (not the database's)
            queries.append(len(captured))
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "queries": max(queries),
            "n": len(times), "cpu_p50": statistics.median(cpu)}


def show(name: str, result: dict, target: str = "") -> None:
    print(f"  {name:<44} p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
          f"queries {result['queries']:>2}  (n={result['n']}){'  target ' + target if target else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tags, days, per_platform = (10_000, 90, 2) if args.quick else (50_000, 365, 10)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.path.join(tmp, "bench.sqlite3"))
        from django.conf import settings

        settings.ALLOWED_HOSTS, settings.MFA_REQUIRED, settings.DEBUG = ["*"], False, False
        from django.test import Client
        from django.utils import timezone

        location, user, accounts = populate(tags, days, per_platform)
        client = Client()
        client.force_login(user)
        base = f"/locations/{location.location_id}/tags/"
        api = f"/api/v1/locations/{location.location_id}/tags/"
        deep = tags // 50 - 10
        tag_urls = [f"{base}?q=promo&sort=-updated_at", f"{base}?page={deep}",
                    f"{base}?sort=-first_seen_at&page={deep}", f"{base}?q=sale&status=active&page=20",
                    f"{base}?status=new&sort=-name&page=5"]
        api_urls = [u.replace(base, api) for u in tag_urls]
        admin_urls = ["/admin/integrations/tag/?q=promo", f"/admin/integrations/tag/?p={deep // 2}",
                      "/admin/integrations/tag/?q=sale&p=2"]
        end = timezone.now().date()
        stats = f"/api/v1/locations/{location.location_id}/statistics/"
        stats_urls = [f"{stats}?range=30d&compare=previous", f"{stats}?range=90d&compare=previous",
                      f"{stats}?range=7d&platform=instagram",
                      f"{stats}?start={end - timedelta(days=days - 1)}&end={end}",
                      f"{stats}?range=30d&account={accounts[3].account_id}&compare=previous"]
        print(f"\nTag list: {tags:,} tags in one location (search, sorts, filters, page {deep} of {tags // 50})")
        page = measure(client, tag_urls, args.runs)
        show("tags page /locations/<id>/tags/", page, "p95 <= 50 ms")
        show("tags API /api/v1/locations/<id>/tags/", measure(client, api_urls, args.runs), "p95 <= 50 ms")
        admin = measure(client, admin_urls, max(3, args.runs // 4))
        show("Django admin Tag changelist (search, pages)", admin)
        print(f"  speed-up over the admin changelist: p50 {admin['p50'] / page['p50']:.1f}x, "
              f"p95 {admin['p95'] / page['p95']:.1f}x  (target >= 5x)")
        print(f"\nStatistics JSON: {len(accounts)} accounts on 7 platforms, {days} days")
        show("statistics API (30d, 90d, 7d+platform, all days, account)", measure(client, stats_urls, args.runs),
             "p95 <= 100 ms")
        for url in stats_urls:
            show("  " + url.split("?")[1][:40], measure(client, [url], max(3, args.runs // 4)))
        show("statistics page /locations/<id>/statistics/",
             measure(client, [f"/locations/{location.location_id}/statistics/"], max(3, args.runs // 4)))
        show("locations overview /", measure(client, ["/"], max(3, args.runs // 4)))
        show("tags CSV export (all rows, streamed)", measure(client, [f"{api}?format=csv"], 2))


if __name__ == "__main__":
    main()
