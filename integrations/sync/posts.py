"""Posts of one location, with their tags (TagPost links) and, under v3, their insights and a daily snapshot.

Which posts are listed (`posts_window`):
- until the location's posts reach back to the statistics horizon (`Location.posts_covered_from`), the whole
  horizon up to `FUTURE_DAYS` ahead (scheduled posts): the first refresh pages through every post once;
- after that, only the recent window (`RECENT_DAYS`, the days in which a post's status and insights still
  move: HighLevel fills insights "asynchronously") and the scheduled ones ahead. Older posts were read once.

Writes compare before writing, in bounded batches (upsert.py): a second unchanged refresh writes nothing.
Insights HighLevel leaves out (2021-07-28, not synced yet, a platform without them) are "not available": the
stored values stay as last read, never turned into 0. A post's insights get one snapshot per UTC day
(PostInsightSnapshot) while the post is in its first SNAPSHOT_DAYS days; the write path never writes one
outside that window and, when a post's publication date moves, deletes its snapshots that fell outside it,
so no post ever holds more than SNAPSHOT_DAYS rows.

Posts within the listed window that a complete listing no longer contains are deleted (HighLevel deleted
them); an unclean listing stores what it read and deletes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.bulk import instances_insert, rows_insert
from integrations.data_versions import TAGS, versions_move, written
from integrations.highlevel.errors import BadResponse, ValidationError
from integrations.highlevel.types import Post as ApiPost
from integrations.models import Location, Post, PostInsightSnapshot, TagPost
from integrations.sync.runs import RunContext
from integrations.sync.upsert import BATCH, Writes, assign, batched

PAGE_SIZE = 100
FUTURE_DAYS = 31  # scheduled posts ahead of today
SNAPSHOT_DAYS = PostInsightSnapshot.SNAPSHOT_DAYS
RECENT_DAYS = SNAPSHOT_DAYS  # re-read on every refresh: statuses and insights still change


def horizon_days() -> int:
    """Posts go back as far as statistics do (SYNC_STATISTICS_HORIZON_DAYS), so tag performance and the
    charts cover the same days."""
    return settings.SYNC_STATISTICS_HORIZON_DAYS


def posts_window(location: Location, now: datetime) -> tuple[date, date]:
    """The UTC days to list: the whole horizon until it has been listed completely once, then the recent days."""
    today = now.astimezone(UTC).date()
    horizon_start = today - timedelta(days=horizon_days() - 1)
    recent_start = max(horizon_start, today - timedelta(days=RECENT_DAYS - 1))
    covered = location.posts_covered_from
    covered_day = covered.astimezone(UTC).date() if covered else None
    start = recent_start if covered_day is not None and covered_day <= horizon_start else horizon_start
    return start, today + timedelta(days=FUTURE_DAYS)


def posts_refresh(ctx: RunContext) -> None:
    location = ctx.location
    now = timezone.now()
    start, end = posts_window(location, now)
    # The connection's social version: 2021-07-28 once the statistics sync found v3 refused
    # (integrations/connections/contract.py), so posts do not ask a refused v3 first on every refresh.
    social = location.connection.social_version if location.connection_id else ctx.client.social_version
    try:
        seen = _list_and_save(ctx, start, end, now, version=social)
    except ValidationError as exc:
        # A HighLevel that refuses the social version for posts (4xx) still lists them under the API version,
        # without insights: the tags refresh that runs this must not fail for it.
        fallback = ctx.client.version
        if social == fallback:
            raise
        ctx.problem(f"HighLevel refused posts under Version {social} ({exc.message}); listed under {fallback}, "
                    "without insights", exc.trace_id)
        seen = _list_and_save(ctx, start, end, now, version=fallback)
    if seen is None:
        return
    _delete_gone(ctx, seen, start, end)
    start_at = datetime.combine(start, time.min, tzinfo=UTC)
    if location.posts_covered_from is None or start_at < location.posts_covered_from:
        Location.objects.filter(pk=location.pk).update(posts_covered_from=start_at)
        location.posts_covered_from = start_at


def _list_and_save(ctx: RunContext, start: date, end: date, now: datetime, version: str | None = None
                   ) -> set[str] | None:
    """Every post of the window stored; answers their ids, or None when the listing was incomplete."""
    seen: set[str] = set()
    listing = ctx.client.iter_posts(ctx.location.location_id, start, end, page_size=PAGE_SIZE, version=version)
    try:
        for batch in batched(listing, BATCH):
            seen.update(p.id for p in batch)
            _save(ctx, batch, now)
    except BadResponse as exc:
        ctx.problem(f"post listing incomplete: {exc}", exc.trace_id)
        for line in exc.problems:
            ctx.problem(line, exc.trace_id)
        return None
    return seen


def _delete_gone(ctx: RunContext, seen: set[str], start: date, end: date) -> None:
    """Posts dated within the listed days (by schedule date, else display date) that the listing lacked."""
    first = datetime.combine(start, time.min, tzinfo=UTC)
    last = datetime.combine(end, time.max, tzinfo=UTC)
    dated = (Q(scheduled_at__range=(first, last))
             | Q(scheduled_at__isnull=True, display_date__range=(first, last)))
    rows = Post.objects.filter(dated, location=ctx.location).order_by().values_list("pk", "post_id")
    gone = [pk for pk, post_id in rows if post_id not in seen]
    for pks in batched(gone, BATCH):
        with transaction.atomic():
            deleted = written(Post.objects.filter(pk__in=pks).delete()[0], ctx.location.pk, TAGS)
        ctx.wrote(deleted)


RELINK_FIELDS = frozenset(TagPost.COPIED)


def _fields(post: ApiPost) -> dict[str, Any]:
    return {
        "status": (post.status or "")[:30], "error": post.error or "", "platform": (post.platform or "")[:20],
        "account_id": (post.account_id or "")[:255], "account_ids": list(post.account_ids),
        "tag_ids": list(post.tag_ids), "summary": post.summary or "", "thumbnail": post.thumbnail or "",
        "post_type": (post.post_type or "")[:30], "published_at": post.published_at,
        "scheduled_at": post.scheduled_at, "display_date": post.display_date or post.scheduled_at,
        "created_at": post.created_at, "updated_at": post.updated_at, "raw": post.raw,
        "at": post.published_at or post.display_date or post.scheduled_at,  # Post.when, stored
    }


def _insight_fields(post: ApiPost) -> dict[str, int]:
    """The counts this answer reports; one it leaves out keeps its stored value ("not available" now)."""
    if post.insights is None:
        return {}
    read = {"likes": post.insights.like, "shares": post.insights.share, "comments": post.insights.comment}
    return {name: value for name, value in read.items() if value is not None}


def _save(ctx: RunContext, batch: list[ApiPost], now: datetime) -> None:
    location = ctx.location
    existing = {p.post_id: p for p in Post.objects.filter(  # unordered: found through (location, post_id)
        location=location, post_id__in=[p.id for p in batch]).order_by()}
    writes = Writes(Post, with_ids=("location_id", "post_id"),  # new posts are linked to tags and snapshots below
                    on_write=lambda: versions_move(location.pk, TAGS))
    relink: list[Post] = []
    moved: list[Post] = []  # publication date changed: snapshots outside the new window go
    rows: list[Post] = []
    for api_post in batch:
        for line in api_post.problems:
            ctx.problem(line)
        fields = _fields(api_post)
        insights = _insight_fields(api_post)
        row = existing.get(api_post.id)
        if row is None:
            row = Post(location=location, post_id=api_post.id, last_seen_at=now, **fields, **insights,
                       insights_at=now if insights else None)
            writes.create(row)
            relink.append(row)
        else:
            changed = assign(row, fields)
            insights_changed = assign(row, insights)
            if insights_changed:
                row.insights_at = now
                changed += [*insights_changed, "insights_at"]
            if changed:
                row.last_seen_at = now
                writes.update(row, [*changed, "last_seen_at"])
                if "tag_ids" in changed or RELINK_FIELDS.intersection(changed):
                    relink.append(row)  # the links carry a copy of these fields (TagPost.COPIED)
                if "published_at" in changed:
                    moved.append(row)
        rows.append(row)
    rows_written = writes.commit()
    if relink:
        with transaction.atomic():
            TagPost.objects.filter(post__in=[p for p in relink if p.pk and p.post_id in existing]).delete()
            links = [TagPost.row_of(p, tag_id) for p in relink for tag_id in set(p.tag_ids)]
            rows_insert(TagPost, TagPost.ROW, links, ignore_conflicts=True)
            versions_move(location.pk, TAGS)
        rows_written += len(links)
    rows_written += _snapshot(rows, moved, now)
    ctx.wrote(rows_written)


def snapshot_days(post: Post) -> tuple[date, date] | None:
    """The first and last UTC day a post's insights may be snapshotted: its first SNAPSHOT_DAYS days."""
    anchor = post.when
    if anchor is None:
        return None
    first = anchor.astimezone(UTC).date()
    return first, first + timedelta(days=SNAPSHOT_DAYS - 1)


def _snapshot(rows: list[Post], moved: list[Post], now: datetime) -> int:
    """Today's snapshot of each post with insights in its first SNAPSHOT_DAYS days (created, or updated when the
    numbers moved since the morning); snapshots of moved posts outside their new window deleted."""
    today = now.astimezone(UTC).date()
    due = {}
    for row in rows:
        span = snapshot_days(row)
        if row.has_insights and span and span[0] <= today <= span[1]:
            due[row.pk] = row
    stale = Q()
    for row in moved:
        span = snapshot_days(row)
        stale |= Q(post_id=row.pk) & (~Q(day__range=span) if span else Q())
    if not due and not moved:
        return 0
    have = {s.post_id: s for s in PostInsightSnapshot.objects.filter(post_id__in=list(due), day=today).order_by()}
    creates, updates = [], []
    for pk, row in due.items():
        values = {name: getattr(row, name) for name in Post.INSIGHT_FIELDS}
        snap = have.get(pk)
        if snap is None:
            creates.append(PostInsightSnapshot(post_id=pk, day=today, taken_at=now, **values))
        elif assign(snap, values):
            snap.taken_at = now
            updates.append(snap)
    if not (creates or updates or moved):
        return 0
    with transaction.atomic():
        instances_insert(creates, ignore_conflicts=True)
        PostInsightSnapshot.objects.bulk_update(updates, [*Post.INSIGHT_FIELDS, "taken_at"], batch_size=BATCH)
        deleted, _ = PostInsightSnapshot.objects.filter(stale).delete() if moved else (0, None)
        versions_move(rows[0].location_id, TAGS)
    return len(creates) + len(updates) + deleted
