"""1,000,000 tags in one location: the tag list (pages, sorts, filters) and substring search,
page and API, on SQLite or (`--scale-out`) PostgreSQL; and a refresh of that location with nothing changed.

    .venv/bin/python bench/million.py                          # SQLite, 1,000,000 tags
    .venv/bin/python bench/million.py --scale-out              # PostgreSQL (database tagscope_million)
    .venv/bin/python bench/million.py --tags 100000 --runs 5   # a quick look
    .venv/bin/python bench/million.py --refresh                # also sync the location from the sandbox, twice

The tags are written straight into the database (as the tests' factories do) with the search index
dropped, then the index is built by the migration's own code and timed (what migrating an existing
1,000,000-tag database costs). Each request goes through Django's test client; p50/p95 over the runs.
Searches of 3 or more characters use the trigram index; 1- and 2-character ones scan (capped count) and
are shown apart. Prints figures, targets and the load average (the machine may be shared); asserts nothing.

Targets: tag list p95 <= 50 ms; substring search p95 <= 100 ms; an unchanged refresh writes 0 rows with
the worker's peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import timedelta

from common import setup_django
from pages import measure, show

WORDS = ["spring", "summer", "promo", "sale", "launch", "event", "team", "recipe", "tips", "news", "offer"]


def populate(count: int):
    from django.db import connection
    from django.utils import timezone

    from integrations import tag_search
    from integrations.models import Tag
    from tests.dashboard.browsing_factories import location_make

    location = location_make("bench-million", "Million Bakery")
    now, rng = timezone.now(), random.Random(11)
    with connection.schema_editor() as editor:
        tag_search.remove(None, editor)
    started = time.perf_counter()
    for start in range(0, count, 10_000):
        rows = []
        for n in range(start, min(count, start + 10_000)):
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n:07d}"
            first_seen = now - timedelta(days=2 if n % 50 == 0 else 60, minutes=n % 1000)
            rows.append(Tag(location=location, tag_id=f"tag{n:07d}", name=name, sort_name=name.casefold(),
                            created_at=first_seen, updated_at=now - timedelta(minutes=n * 7 % 500_000),
                            raw={"_id": f"tag{n:07d}", "name": name}, first_seen_at=first_seen, last_seen_at=now,
                            removed_at=now - timedelta(days=1) if n % 40 == 1 else None, is_baseline=n % 50 != 0))
        Tag.objects.bulk_create(rows, batch_size=2000)
    print(f"made {count:,} tags in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        tag_search.install(None, editor)
        if connection.vendor == "postgresql":
            editor.execute("ANALYZE integrations_tag")
    print(f"search index built for {count:,} existing tags (the migration's code) in "
          f"{time.perf_counter() - started:.1f} s")
    return location


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL on 127.0.0.1")
    parser.add_argument("--database", default="tagscope_million", help="with --scale-out: made empty first")
    parser.add_argument("--refresh", action="store_true",
                        help="also sync a sandbox location of --tags tags in a worker process, then again unchanged")
    parser.add_argument("--refresh-only", action="store_true", help="only that")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = ""
        if args.scale_out:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {args.database}")
            database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
        database_url = database_url or f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}"
        setup_django(os.path.join(tmp, "bench.sqlite3"), database_url=database_url)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client

        settings.ALLOWED_HOSTS, settings.MFA_REQUIRED, settings.DEBUG = ["*"], False, False
        print(f"database: {'PostgreSQL' if args.scale_out else 'SQLite'}; load average before: "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
        if args.refresh_only:
            return refresh(args, database_url)
        location = populate(args.tags)
        client = Client()
        client.force_login(get_user_model().objects.create_superuser("bench", "b@example.com", "bench-pass-123"))
        base = f"/locations/{location.location_id}/tags/"
        api = f"/api/v1/locations/{location.location_id}/tags/"
        last = args.tags // 50
        lists = [base, f"{base}?sort=-updated_at", f"{base}?sort=first_seen_at&page=2000",
                 f"{base}?status=new", f"{base}?status=removed&sort=-name&page=10",
                 f"{base}?status=active&sort=-first_seen_at&page=50", f"{base}?page={last // 2}",
                 f"{base}?sort=-name&page={last - 5}"]
        searches = [f"{base}?q=promo", f"{base}?q=Spring-Sale&sort=-updated_at", f"{base}?q=0042&status=active",
                    f"{base}?q=0123456", f"{base}?q=ps-ne&page=3", f"{base}?q=qqq", f"{base}?q=sale&page=20",
                    f"{base}?q=er-t&sort=first_seen_at"]
        short = [f"{base}?q=a", f"{base}?q=-s", f"{base}?q=7&sort=-updated_at", f"{base}?q=qz"]
        print(f"\nTag list: {args.tags:,} tags in one location (sorts, filters, pages up to {last:,})")
        for label, urls, target in (("tag list", lists, 50), ("substring search (3+ characters)", searches, 100)):
            show(f"{label} page", measure(client, urls, args.runs), f"p95 <= {target} ms")
            show(f"{label} API", measure(client, [u.replace(base, api) for u in urls], args.runs),
                 f"p95 <= {target} ms")
        show("1-2 character search (capped scan) page", measure(client, short, args.runs))
        for url in lists + searches + short:
            show("  " + url.replace(base, "?").split("?", 1)[1][:40], measure(client, [url], max(3, args.runs // 2)))
        load = os.getloadavg()
        print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        if args.refresh:
            refresh(args, database_url)


def refresh(args, database_url: str) -> None:
    """bench/sync.py's worker-RSS case at this size, run twice: the second refresh must write nothing."""
    from sync import rss

    print(f"\nRefresh: a sandbox location of {args.tags:,} tags synced by a worker process, then again")
    rss(args, database_url, "", tags=args.tags, again=True)
    load = os.getloadavg()
    print(f"load average after the refresh: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
