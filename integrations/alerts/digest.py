"""The weekly statistics digest: per location, last week's totals against the week before, the tags with
the most new posts, and a link to the charts. HTML with a plain-text part; opt-in per user
(NotificationPreference.weekly_digest); sent by the `tagscope.weekly-digest` schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from integrations.alerts.attention import KINDS as ATTENTION_KINDS
from integrations.alerts.notify import base_url, render_text
from integrations.alerts.weekly import Weeks, weekly_changes, weeks_before
from integrations.models import Alert, Location, NotificationPreference, Tag, TagPost

log = logging.getLogger(__name__)
# Summable daily numbers of all platforms ('followers' is a running count, so it is left out).
DIGEST_METRICS = ("posts", "impressions", "reach", "likes", "comments", "shares", "engagement")
TOP_TAGS = 5


def _top_tags(location_pks: list[int], weeks: Weeks) -> dict[int, list[dict[str, Any]]]:
    """{location pk: [{"tag_id", "name", "posts"}]} by posts published (or planned) in the week."""
    start = datetime.combine(weeks.start, time.min, tzinfo=UTC)
    end = datetime.combine(weeks.end + timedelta(days=1), time.min, tzinfo=UTC)
    in_week = (Q(post__published_at__gte=start, post__published_at__lt=end)
               | Q(post__published_at__isnull=True, post__display_date__gte=start, post__display_date__lt=end))
    rows = (TagPost.objects.filter(in_week, location_id__in=location_pks).values("location_id", "tag_id")
            .annotate(posts=Count("post", distinct=True)).order_by("location_id", "-posts", "tag_id"))
    top: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if len(top.setdefault(row["location_id"], [])) < TOP_TAGS:
            top[row["location_id"]].append(row)
    wanted = [(r["location_id"], r["tag_id"]) for rows_ in top.values() for r in rows_]
    tags = Tag.objects.filter(location_id__in=location_pks, tag_id__in=[tag_id for _, tag_id in wanted]).order_by()
    names = {(loc, tag_id): name for loc, tag_id, name in tags.values_list("location_id", "tag_id", "name")}
    for rows_ in top.values():
        for row in rows_:
            row["name"] = names.get((row["location_id"], row["tag_id"]), row["tag_id"])
    return top


def digest_context(*, now: datetime | None = None) -> dict[str, Any]:
    """Everything the digest shows, for every installed location."""
    now = now or timezone.now()
    weeks = weeks_before(now.date())
    locations = list(Location.objects.filter(is_installed=True).order_by("name", "pk"))
    pks = [loc.pk for loc in locations]
    changes = weekly_changes(location_pks=pks, metrics=DIGEST_METRICS, weeks=weeks)
    top = _top_tags(pks, weeks)
    site = base_url()
    rows = []
    for location in locations:
        metrics = [{"metric": m, "total": c.total, "previous": c.previous, "pct": c.pct}
                   for m in DIGEST_METRICS if (c := changes.get((location.pk, m))) is not None and c.total is not None]
        rows.append({
            "location": location, "metrics": metrics, "top_tags": top.get(location.pk, []),
            "charts_url": f"{site}/locations/{location.location_id}/statistics/",
        })
    return {"weeks": weeks, "locations": rows, "base_url": site, "generated_at": now,
            "attention": _attention(locations, site)}


def _attention(locations: list[Location], site: str) -> list[dict[str, Any]]:
    """The locations with open "needs attention" items (goals and health alerts), with their reasons."""
    open_items: dict[int, list[str]] = {}
    alerts = Alert.objects.filter(kind__in=ATTENTION_KINDS, state__in=Alert.ACTIVE,
                                  location_id__in=[loc.pk for loc in locations]).order_by("first_seen_at", "pk")
    for location_pk, context, title in alerts.values_list("location_id", "context", "title"):
        open_items.setdefault(location_pk, []).append((context or {}).get("reason") or title)
    return [{"location": loc, "reasons": open_items[loc.pk],
             "url": f"{site}/locations/{loc.location_id}/goals/"} for loc in locations if loc.pk in open_items]


def digest_render(context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html)."""
    weeks = context["weeks"]
    subject = f"[Tagscope] Your week in statistics: {weeks.start:%d %b} to {weeks.end:%d %b %Y}"
    return (subject, render_text("email/digest.txt", context), render_to_string("email/digest.html", context))


def digest_recipients() -> list[str]:
    prefs = NotificationPreference.objects.filter(weekly_digest=True, user__is_active=True).exclude(user__email="")
    return sorted(set(prefs.values_list("user__email", flat=True)))


def weekly_digest_send(*, now: datetime | None = None) -> int:
    """Mail the digest to everyone who asked for it, one message each; answers how many were sent."""
    recipients = digest_recipients()
    if not recipients:
        return 0
    subject, text, html = digest_render(digest_context(now=now))
    sent = 0
    for email in recipients:
        message = EmailMultiAlternatives(subject=subject, body=text, to=[email])
        message.attach_alternative(html, "text/html")
        try:
            sent += message.send()
        except Exception:
            log.exception("could not mail the weekly digest to a recipient")
    log.info("weekly digest sent to %d of %d recipients", sent, len(recipients))
    return sent


def digest_preference_set(*, user: Any, weekly_digest: bool) -> NotificationPreference:
    pref, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"weekly_digest": weekly_digest})
    return pref


def digest_preference(user: Any) -> bool:
    return NotificationPreference.objects.filter(user=user, weekly_digest=True).exists()
