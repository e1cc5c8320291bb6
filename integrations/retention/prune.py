"""One prune pass: roll up the calls that are about to go, delete every table's rows past its window in
batches, measure the tables, and record it all as a PruneRun (the Operations page shows the last one).

Run nightly by the `tagscope.prune` schedule (integrations/schedules.py) and by `manage.py prune`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from integrations.models import PruneRun
from integrations.retention.batches import count_outside, delete_in_batches
from integrations.retention.rollup import api_calls_roll_up
from integrations.retention.rules import RULES, Context, Rule
from integrations.retention.sizes import database_bytes, table_sizes

log = logging.getLogger(__name__)
PRUNE_CACHE_KIB = 64 * 1024


def _rule_apply(rule: Rule, ctx: Context, *, dry_run: bool, batch_size: int) -> int:
    keep = rule.keep(ctx)
    if dry_run:
        return count_outside(rule.rows(ctx), keep=keep)
    total = 0
    for _ in range(rule.passes):
        deleted = delete_in_batches(rule.rows(ctx), batch_size=batch_size, keep=keep)
        total += deleted
        if not deleted:
            break
    return total


@contextmanager
def _page_cache(kib: int = PRUNE_CACHE_KIB) -> Iterator[None]:
    """A larger SQLite page cache for this connection while it prunes: a batch's DELETE updates every index of
    a large table (sync runs have nine), and SQLite's default 2 MB cache re-read their pages batch after
    batch. Put back afterwards (it is the worker's connection)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def prune_run(*, now: datetime | None = None, dry_run: bool = False, trigger: str = "schedule",
              measure: bool = True, progress: Callable[[str, int], None] | None = None) -> PruneRun:
    """Prune every table once and answer the saved record; a dry run counts instead of deleting, rolls nothing
    up and saves nothing. A failing rule is logged and recorded, and the others still run."""
    now = now or timezone.now()
    batch_size = int(settings.PRUNE_BATCH_SIZE)
    record = PruneRun(started_at=timezone.now(), trigger=trigger, dry_run=dry_run, deleted={})
    started = time.monotonic()
    ctx = Context(now=now)
    errors = []
    with _page_cache():
        if not dry_run:
            record.rolled_up_days = api_calls_roll_up(now=now)
        for rule in RULES:
            try:
                count = _rule_apply(rule, ctx, dry_run=dry_run, batch_size=batch_size)
            except Exception as exc:  # one table's trouble must not keep the others growing
                log.exception("prune: %s failed", rule.label)
                errors.append(f"{rule.label}: {type(exc).__name__}: {exc}"[:300])
                continue
            record.deleted[rule.label] = record.deleted.get(rule.label, 0) + count
            if progress:
                progress(rule.label, count)
    record.seconds = round(time.monotonic() - started, 3)
    if measure:
        record.sizes = table_sizes()
        record.database_bytes = database_bytes()
    record.finished_at = timezone.now()
    record.error = "\n".join(errors)
    if not dry_run:
        record.save()
    log.info("prune%s: %d rows in %.1f s %s", " (dry run)" if dry_run else "", sum(record.deleted.values()),
             record.seconds, record.deleted)
    return record


def last_prune() -> PruneRun | None:
    return PruneRun.objects.filter(dry_run=False, finished_at__isnull=False).order_by("-id").first()
