"""1,000,000 tags in one location: the tag list (first pages and sorts, keyset pages as deep as the last,
status filters) and substring search (3+ characters through the trigram index; 1-2 characters through
a window of 50,000 tags per page, 10,000 under other sorts or a status filter), page and API, on SQLite or
(`--scale-out`) PostgreSQL; with `--refresh`, a worker syncs a sandbox location of --tags tags, then
refreshes it unchanged (rows written, peak RSS).

    .venv/bin/python bench/million.py                          # SQLite, 1,000,000 tags
    .venv/bin/python bench/million.py --scale-out              # PostgreSQL (database tagscope_million)
    .venv/bin/python bench/million.py --tags 100000 --runs 5   # a quick look
    .venv/bin/python bench/million.py --refresh                # also the worker's sync and unchanged refresh
    .venv/bin/python bench/million.py --refresh-only           # only that
    .venv/bin/python bench/million.py --keep /tmp/m.sqlite3    # plant once into that file, reuse it next time
    .venv/bin/python bench/million.py --scale-out --keep 1     # keep the database, reuse it next time

The tags are written straight into the database (one INSERT ... SELECT) with the search index
dropped, then the index is built by the migration's own code and timed (what migrating an existing
1,000,000-tag database costs). Each request goes through Django's test client; p50/p95 over the runs.
Prints `figure: name | value | target | ok|missed` lines (bench/run_all.py's table) and the load average
(the machine may be shared); asserts nothing.

Targets: tag list p95 <= 50 ms; search p95 <= 100 ms (3+ characters, and 1-2 characters); an unchanged
refresh writes 0 rows with the worker's peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta

from agency import figure
from common import setup_django
from pages import measure, show

WORDS = ["spring", "summer", "promo", "sale", "launch", "event", "team", "recipe", "tips", "news", "offer"]


LIST_TARGET_MS, SEARCH_TARGET_MS, RSS_TARGET_MB = 50, 100, 150
SPREAD = 16  # distinct updated_at and first_seen_at values, each repeated (ties are broken by id)


def populate(count: int):
    """`count` tags written by one INSERT ... SELECT (a minute of bulk_create per 100,000 at best): names
    `<word>-<word>-<7 digits>`, every 50th new, every 40th removed, the search index dropped meanwhile."""
    from django.db import connection
    from django.utils import timezone

    from integrations import tag_search
    from tests.dashboard.browsing_factories import location_make

    location = location_make("bench-million", "Million Bakery")
    now, adapt = timezone.now(), connection.ops.adapt_datetimefield_value
    with connection.schema_editor() as editor:
        tag_search.remove(None, editor)
    words = ", ".join(f"({k}, '{w}')" for k, w in enumerate(WORDS))
    updated = " ".join(f"WHEN {k} THEN %s" for k in range(SPREAD))
    first = " ".join(f"WHEN {k} THEN %s" for k in range(SPREAD))
    name = ("a.w || '-' || b.w || '-' || " + ("lpad(n.i::text, 7, '0')" if connection.vendor == "postgresql"
                                               else "printf('%%07d', n.i)"))
    sql = f"""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %s),
        words(k, w) AS (VALUES {words})
        INSERT INTO integrations_tag (location_id, tag_id, name, sort_name, created_by, deleted, created_at,
            updated_at, raw, first_seen_at, last_seen_at, removed_at, is_baseline, details_for)
        SELECT %s, 'tag' || n.i, {name}, {name}, '', %s, CASE n.i %% {SPREAD} {first} END,
            CASE (n.i * 7) %% {SPREAD} {updated} END, '{{}}',
            CASE WHEN n.i %% 50 = 0 THEN %s ELSE CASE n.i %% {SPREAD} {first} END END, %s,
            CASE WHEN n.i %% 40 = 1 THEN %s END, n.i %% 50 <> 0, ''
        FROM n JOIN words a ON a.k = (n.i * 7) %% {len(WORDS)}
        JOIN words b ON b.k = (n.i / {len(WORDS)}) %% {len(WORDS)}
    """
    firsts = [adapt(now - timedelta(days=60, minutes=k * 97)) for k in range(SPREAD)]
    params = [count - 1, location.pk, False, *firsts,
              *[adapt(now - timedelta(minutes=k * 3001)) for k in range(SPREAD)],
              adapt(now - timedelta(days=2)), *firsts, adapt(now), adapt(now - timedelta(days=1))]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    print(f"made {count:,} tags in {time.perf_counter() - started:.1f} s")
    from integrations.tag_counts import tag_counts_store

    started = time.perf_counter()
    tag_counts_store(location)  # what the sync stores after its writes
    print(f"tag counts stored (what a sync does after its writes) in {(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        tag_search.install(None, editor)
    with connection.cursor() as cursor:  # what autovacuum does soon after such a load (index-only scans)
        cursor.execute("VACUUM ANALYZE integrations_tag" if connection.vendor == "postgresql" else "SELECT 1")
    took = time.perf_counter() - started
    print(f"search index built for {count:,} existing tags (the migration's code) in {took:.1f} s")
    figure(f"{connection.display_name}: search index built for {count:,} existing tags", f"{took:.1f} s")
    return location


def planted(count: int):
    """The location a previous run planted (--keep) when it holds `count` tags; None when there is none."""
    from integrations.models import Location, Tag

    location = Location.objects.filter(location_id="bench-million").first()
    if location is None:
        return None
    if (found := Tag.objects.filter(location=location).count()) != count:
        raise SystemExit(f"the kept database holds {found:,} planted tags, not {count:,}: remove it first")
    print(f"reusing the {count:,} tags planted before")
    return location


def deep(location, sort: str, status: str, offset: int, *, before: bool = False) -> str:
    """The query of a keyset page `offset` rows into the list (a reader who followed the links that far)."""
    from urllib.parse import urlencode

    from dashboard.selectors.tag_keyset import cursor_encode
    from dashboard.selectors.tags import TagFilter, tags_for_location
    from integrations.models import Tag

    tags = tags_for_location(location=location, filters=TagFilter(sort=sort, status=status))
    tag = Tag.objects.get(pk=tags.values_list("pk", flat=True)[offset])
    return urlencode({"before" if before else "after": cursor_encode(sort, tag)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL on 127.0.0.1")
    parser.add_argument("--database", default="tagscope_million", help="with --scale-out: made empty first")
    parser.add_argument("--keep", default="",
                        help="plant once, reuse after: the SQLite file to keep (or, with --scale-out, any value: the "
                             "database is not dropped); a run that finds the planted tags there measures them")
    parser.add_argument("--refresh", action="store_true",
                        help="also sync a sandbox location of --tags tags in a worker process, then again unchanged")
    parser.add_argument("--refresh-only", action="store_true", help="only that")
    parser.add_argument("--refresh-tags", type=int, default=0,
                        help="the refreshed location's tags (default --tags; an unchanged refresh's peak RSS does "
                             "not grow with them, its first sync's time does)")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = ""
        if args.scale_out:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                if not (args.keep and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                                   [args.database]).fetchone()):
                    conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
                    conn.execute(f"CREATE DATABASE {args.database}")
            database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
        sqlite_file = args.keep if args.keep and not args.scale_out else os.path.join(tmp, "bench.sqlite3")
        database_url = database_url or f"sqlite:///{os.path.abspath(sqlite_file)}"
        setup_django(sqlite_file, database_url=database_url)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client

        settings.ALLOWED_HOSTS, settings.MFA_REQUIRED, settings.DEBUG = ["*"], False, False
        print(f"database: {'PostgreSQL' if args.scale_out else 'SQLite'}; load average before: "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
        if args.refresh_only:
            return refresh(args, database_url)
        location = planted(args.tags) or populate(args.tags)
        client = Client()
        user = get_user_model().objects.filter(username="bench").first()
        client.force_login(user or get_user_model().objects.create_superuser("bench", "b@example.com",
                                                                             "bench-pass-123"))
        base = f"/locations/{location.location_id}/tags/"
        api = f"/api/v1/locations/{location.location_id}/tags/"
        deep_pages = [f"{base}?sort=first_seen_at&{deep(location, 'first_seen_at', '', args.tags // 10)}",
                      f"{base}?{deep(location, 'name', '', args.tags // 2)}", f"{base}?sort=-name&last=1",
                      f"{base}?sort=-updated_at&{deep(location, '-updated_at', '', args.tags - 300, before=True)}"]
        groups = [  # (figure, urls, target p95 in ms)
            ("first page and sorts", [base, f"{base}?sort=-updated_at", f"{base}?sort=-first_seen_at",
                                      f"{base}?sort=-name"], LIST_TARGET_MS),
            ("keyset pages as deep as the last", deep_pages, LIST_TARGET_MS),
            ("status filters", [
                f"{base}?status=new",
                f"{base}?status=removed&sort=-name&{deep(location, '-name', 'removed', args.tags // 2000)}",
                f"{base}?status=active&sort=-first_seen_at&"
                f"{deep(location, '-first_seen_at', 'active', args.tags // 400)}"],
             LIST_TARGET_MS),
            ("substring search, 3+ characters", [
                f"{base}?q=promo", f"{base}?q=Spring-Sale&sort=-updated_at", f"{base}?q=0042&status=active",
                f"{base}?q=0123456", f"{base}?q=ps-ne", f"{base}?q=qqq", f"{base}?q=sale&last=1",
                f"{base}?q=er-t&sort=first_seen_at"], SEARCH_TARGET_MS),
            ("search of 1-2 characters (a window of tags per page)", [
                f"{base}?q=a", f"{base}?q=-s", f"{base}?q=7&sort=-updated_at", f"{base}?q=qz",
                f"{base}?q=qz&sort=-first_seen_at&status=active"], SEARCH_TARGET_MS),
        ]
        backend = "PostgreSQL" if args.scale_out else "SQLite"
        print(f"\nTag list: {args.tags:,} tags in one location (sorts, filters, keyset pages as deep as the last)")
        for label, urls, target in groups:
            for kind, prefix in (("page", base), ("API", api)):
                result = measure(client, [u.replace(base, prefix) for u in urls], args.runs)
                show(f"{label} {kind}", result, f"p95 <= {target} ms")
                figure(f"{backend}, {args.tags:,} tags: {label}, {kind} p95",
                       f"{result['p95']:.1f} ms ({result['queries']} queries)", f"<= {target} ms",
                       result["p95"] <= target)
        for _, urls, _ in groups:
            for url in urls:
                each = measure(client, [url], max(3, args.runs // 2))
                # This process's CPU: on SQLite the database's work too, so a figure the load hardly moves.
                print(f"    {url.replace(base, '?').split('?', 1)[1][:40]:<42} p50 {each['p50']:7.1f} ms  "
                      f"cpu p50 {each['cpu_p50']:6.1f} ms  queries {each['queries']:>2}  (n={each['n']})")
        load = os.getloadavg()
        print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        if args.refresh:
            refresh(args, database_url)


def refresh(args, database_url: str) -> None:
    """bench/sync.py's worker-RSS case at this size, run twice: the second refresh must write nothing."""
    from sync import rss

    print(f"\nRefresh: a sandbox location of {args.refresh_tags or args.tags:,} tags synced by a worker process, "
          "then again")
    backend = "PostgreSQL" if args.scale_out else "SQLite"
    tags = args.refresh_tags or args.tags
    first, *unchanged = rss(args, database_url, "", tags=tags, again=True)
    figure(f"{backend}: first sync of {tags:,} tags (worker)", f"{first['outcome']} in {first['wall']:.0f} s, "
           f"peak RSS {first['peak_mb']:.0f} MB")
    for run in unchanged:
        figure(f"{backend}: unchanged refresh of {tags:,} tags: rows written",
               f"{run['rows_written']} ({run['outcome']} in {run['wall']:.0f} s)", "0",
               run["rows_written"] == 0 and run["outcome"].startswith("succeeded"))
        figure(f"{backend}: unchanged refresh of {tags:,} tags: worker peak RSS", f"{run['peak_mb']:.1f} MB",
               f"<= {RSS_TARGET_MB} MB", 0 < run["peak_mb"] <= RSS_TARGET_MB)
    load = os.getloadavg()
    print(f"load average after the refresh: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
