"""How heavy are client reports? A 90-day report of a busy location: snapshot (read from the mirror), HTML,
PDF (size and time) and CSV, and the share page, in process.

    .venv/bin/python bench/reports.py            # 7 platforms x 3 accounts, 180 days, 600 posts, 5 runs
    .venv/bin/python bench/reports.py --quick    # 2 platforms x 1 account, 2 runs

A throwaway SQLite file holds the rows (made directly, as the tests' factories do). Prints figures and
targets; asserts nothing.

Targets: 90-day report page p95 <= 1,000 ms; PDF render <= 5 s and <= 2 MB; share page p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import setup_django

PLATFORMS = ("facebook", "instagram", "linkedin", "google", "tiktok", "youtube", "pinterest")


def populate(platforms: tuple[str, ...], per_platform: int, posts: int):
    from django.utils import timezone

    from dashboard.reports.models import Report
    from integrations.models import Post, TagPost
    from tests.dashboard.browsing_factories import (
        accounts_make,
        demographics_make,
        location_make,
        statistics_make,
        tag_make,
    )

    started = time.perf_counter()
    location = location_make("bench-reports", "Bench Bakery", tz="Europe/London")
    today = timezone.now().date()
    accounts = accounts_make(location, platforms=platforms, per_platform=per_platform)
    statistics_make(location, end=today, days=180, accounts=accounts)
    demographics_make(location, end=today - timedelta(days=1))
    tags = [tag_make(location, f"Campaign {n}", tag_id=f"bench-tag-{n}") for n in range(40)]
    now = timezone.now()
    rows = [Post(location=location, post_id=f"bench-post-{n}", status="published",
                 platform=platforms[n % len(platforms)],
                 summary=f"Bench post {n}", published_at=now - timedelta(hours=7 * n), last_seen_at=now,
                 likes=n % 97, comments=n % 13, shares=n % 7, tag_ids=[tags[n % 40].tag_id]) for n in range(posts)]
    Post.objects.bulk_create(rows, batch_size=1000)
    TagPost.objects.bulk_create([TagPost(location=location, tag_id=p.tag_ids[0], post=p)
                                 for p in Post.objects.filter(location=location)], batch_size=1000)
    report = Report.objects.create(name="Bench Bakery: 90 days", location=location, period="custom",
                                   custom_start=today - timedelta(days=90), custom_end=today - timedelta(days=1),
                                   sections=["kpis", "charts", "demographics", "posts", "scorecard", "note"],
                                   note="A bench note.")
    print(f"made {len(accounts)} accounts x 180 days of statistics and {posts} posts in "
          f"{time.perf_counter() - started:.1f} s")
    return report


def timed(fn, runs: int) -> tuple[dict, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)], "n": runs}, result


def show(name: str, figures: dict, extra: str = "") -> None:
    print(f"  {name:<40} p50 {figures['p50']:8.1f} ms  p95 {figures['p95']:8.1f} ms  (n={figures['n']}){extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    platforms, per_platform, posts = (PLATFORMS[:2], 1, 200) if args.quick else (PLATFORMS, 3, 600)
    runs = 2 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.path.join(tmp, "bench.sqlite3"))
        from django.conf import settings

        settings.ALLOWED_HOSTS, settings.MFA_REQUIRED, settings.DEBUG = ["*"], False, False
        from django.contrib.auth import get_user_model
        from django.test import Client

        from dashboard.reports.render import report_csv_rows, report_html, report_pdf
        from dashboard.reports.share import share_link_create
        from dashboard.reports.snapshot import report_snapshot

        report = populate(platforms, per_platform, posts)
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
        client = Client()
        client.force_login(user)
        now = datetime.now(UTC)
        print(f"\n90-day report ({len(platforms)} platforms, {len(platforms) * per_platform} accounts, {posts} posts)")
        snap_figures, snapshot = timed(lambda: report_snapshot(report, now=now), runs)
        show("snapshot (read from the mirror)", snap_figures)
        show("HTML document", timed(lambda: report_html(snapshot), runs)[0])
        show("report page /reports/<id>/ (90 days)", timed(lambda: client.get(f"/reports/{report.pk}/"), runs)[0],
             "  target p95 <= 1,000 ms")
        pdf_figures, pdf = timed(lambda: report_pdf(snapshot), runs)
        show("PDF render (WeasyPrint)", pdf_figures, f"  size {len(pdf) / 1024:,.0f} KB  target <= 5,000 ms, <= 2 MB")
        show("CSV rows", timed(lambda: sum(1 for _ in report_csv_rows(snapshot)), runs)[0])
        _link, token = share_link_create(user=user, now=now, days=30, report=report)
        anonymous = Client()
        from django.core.cache import cache

        def cold_share():  # the charts drawn again, as before they were kept (the cache also holds the rate count)
            cache.clear()
            return anonymous.get(f"/share/{token}/")

        show("share page, charts drawn each view", timed(cold_share, runs * 4)[0])
        cache.clear()
        show("share page /share/<token>/ (snapshot)", timed(lambda: anonymous.get(f"/share/{token}/"), runs * 4)[0],
             "  target p95 <= 100 ms; charts kept per link")
        print(f"  90-day report PDF: {len(pdf):,} bytes; render p50 {pdf_figures['p50']:.0f} ms")


if __name__ == "__main__":
    main()
