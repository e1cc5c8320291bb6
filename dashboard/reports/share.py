"""Share links: made by admins and marketers for a location's report or a campaign's, opened without an
account, revoked by their creator or an admin.

The token is 32 random bytes (urlsafe base64, 43 characters) shown once in the link; only its SHA-256 is
stored, so the table cannot be turned back into working links. The page is served from the snapshot taken
when the link was made, never from HighLevel. Views are rate-limited per link in the shared cache."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.urls import reverse

from dashboard import roles
from dashboard.reports.models import DEFAULT_SECTIONS, Report, ShareLink, share_token_digest
from dashboard.reports.snapshot import report_snapshot, snapshot_build
from integrations.models import Location

TOKEN_BYTES = 32
VIEWS_PER_MINUTE = 60


class ShareRefused(Exception):
    """A share link that cannot be made or changed; the message says why (a page shows it, the API answers
    it with `status`)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def share_days(value: Any) -> int:
    """A lifetime in whole days from a form or a JSON body: 1 to 90, default 30; anything else refused."""
    if value is None or value == "":
        return ShareLink.DEFAULT_DAYS
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ShareRefused("days must be a whole number from 1 to 90.")
    try:
        days = int(value)
    except ValueError:
        raise ShareRefused("days must be a whole number from 1 to 90.") from None
    if not ShareLink.MIN_DAYS <= days <= ShareLink.MAX_DAYS:
        raise ShareRefused("days must be a whole number from 1 to 90.")
    return days


def share_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("share_page", args=[token])


def share_link_create(*, user: Any, now: datetime, days: Any = None, report: Report | None = None,
                      location: Location | None = None) -> tuple[ShareLink, str]:
    """(link, token): for a saved report, or for a location's standard report (the last 30 days, every
    section) when the API names only the location. The token exists only in what this returns."""
    lifetime = share_days(days)
    if report is not None:
        snapshot = report_snapshot(report, now=now)
        location, campaign, title = report.location, report.campaign, report.name
    elif location is not None:
        title = f"{location.name}: the last 30 days"
        snapshot = snapshot_build(title=title, location=location, campaign=None, period=Report.Period.LAST_30,
                                  sections=[s for s in DEFAULT_SECTIONS if s != "note"], note="", now=now)
        campaign = ""
    else:
        raise ShareRefused("A share link needs a report or a location.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        digest=share_token_digest(token), report=report, location=location, campaign=campaign, title=title[:200],
        snapshot=snapshot, created_by=user if getattr(user, "pk", None) else None, created_at=now,
        expires_at=now + timedelta(days=lifetime))
    return link, token


def share_link_open(token: str, *, now: datetime) -> ShareLink | None:
    """The live link this token opens, counted as a view; None for an unknown, tampered, expired or revoked
    token (the page answers all of them with the same 404)."""
    if not token or len(token) > 100:
        return None
    link = ShareLink.objects.live(now).filter(digest=share_token_digest(token)).first()
    if link is None:
        return None
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=now)
    return link


def share_rate_allowed(link: ShareLink, *, now: datetime) -> bool:
    """At most VIEWS_PER_MINUTE openings of one link per minute, across processes (the shared cache)."""
    key = f"share-rate:{link.pk}:{int(now.timestamp()) // 60}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) <= VIEWS_PER_MINUTE
    except ValueError:  # the key expired between add and incr
        return True


def share_link_revoke(link: ShareLink, *, user: Any, now: datetime) -> None:
    if not (roles.is_admin(user) or (link.created_by_id and link.created_by_id == user.pk)):
        raise ShareRefused("Only the link's creator or an admin can revoke it.", status=403)
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=user)


def share_links_live(*, now: datetime):
    return ShareLink.objects.live(now).select_related("created_by", "location", "report").order_by("expires_at")
