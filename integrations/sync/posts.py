"""Posts of one location within a window around today, so a tag's page finds its posts (TagPost links).

Posts within the window that a complete listing no longer contains are deleted (HighLevel deleted them);
an unclean listing stores what it read and deletes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.highlevel.errors import BadResponse
from integrations.highlevel.types import Post as ApiPost
from integrations.models import Post, TagPost
from integrations.sync.runs import RunContext
from integrations.sync.upsert import BATCH, Writes, assign, batched

PAGE_SIZE = 100
FUTURE_DAYS = 31  # scheduled posts ahead of today


def posts_window(now: datetime) -> tuple[datetime, datetime]:
    horizon = settings.SYNC_POSTS_HORIZON_DAYS
    return now - timedelta(days=horizon), now + timedelta(days=FUTURE_DAYS)


def posts_refresh(ctx: RunContext) -> None:
    location = ctx.location
    now = timezone.now()
    start, end = posts_window(now)
    seen: set[str] = set()
    listing = ctx.client.iter_posts(location.location_id, start, end, page_size=PAGE_SIZE)
    try:
        for batch in batched(listing, BATCH):
            seen.update(p.id for p in batch)
            _save(ctx, batch, now)
    except BadResponse as exc:
        ctx.problem(f"post listing incomplete: {exc}", exc.trace_id)
        for line in exc.problems:
            ctx.problem(line, exc.trace_id)
        return
    gone = [pk for pk, post_id, when in Post.objects.filter(location=location).order_by()
            .values_list("pk", "post_id", "scheduled_at") if post_id not in seen and when and start <= when <= end]
    for pks in batched(gone, BATCH):
        with transaction.atomic():
            deleted, _ = Post.objects.filter(pk__in=pks).delete()
        ctx.wrote(deleted)


def _fields(post: ApiPost) -> dict[str, Any]:
    return {
        "status": (post.status or "")[:30], "platform": (post.platform or "")[:20],
        "account_ids": list(post.account_ids), "tag_ids": list(post.tag_ids), "summary": post.summary or "",
        "post_type": (post.post_type or "")[:30], "published_at": post.published_at,
        "scheduled_at": post.scheduled_at, "display_date": post.display_date or post.scheduled_at,
        "created_at": post.created_at, "updated_at": post.updated_at, "raw": post.raw,
    }


def _save(ctx: RunContext, batch: list[ApiPost], now: datetime) -> None:
    location = ctx.location
    existing = {p.post_id: p for p in Post.objects.filter(  # unordered: found through (location, post_id)
        location=location, post_id__in=[p.id for p in batch]).order_by()}
    writes = Writes(Post, with_ids=True)  # new posts are linked to their tags below
    relink: list[Post] = []
    for api_post in batch:
        fields = _fields(api_post)
        row = existing.get(api_post.id)
        if row is None:
            row = Post(location=location, post_id=api_post.id, last_seen_at=now, **fields)
            writes.create(row)
            relink.append(row)
        else:
            changed = assign(row, fields)
            if changed:
                row.last_seen_at = now
                writes.update(row, [*changed, "last_seen_at"])
                if "tag_ids" in changed:
                    relink.append(row)
    written = writes.commit()
    if relink:
        with transaction.atomic():
            TagPost.objects.filter(post__in=[p for p in relink if p.pk and p.post_id in existing]).delete()
            links = [TagPost(location=location, tag_id=tag_id, post=p) for p in relink for tag_id in set(p.tag_ids)]
            TagPost.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
        written += len(links)
    ctx.wrote(written)
