"""HighLevel's daily quota per resource (location or company), as it reported it in X-RateLimit-Daily-*.

Two sources say the same thing: RateLimitDay (the database limiter keeps the last reported numbers) and
ApiCall (every call records the headers, whichever limiter ran). Both are read in one query each and the
lower remaining wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Max, Min

from integrations.models import ApiCall, RateLimitDay


@dataclass(frozen=True)
class Quota:
    resource_id: str
    remaining: int
    limit: int

    @property
    def used(self) -> int:
        return max(0, self.limit - self.remaining)

    @property
    def used_pct(self) -> float:
        return round(100.0 * self.used / self.limit, 1) if self.limit else 0.0


def _merge(found: dict[str, Quota], resource_id: str, remaining: int | None, limit: int | None) -> None:
    if not resource_id or remaining is None or not limit:
        return
    known = found.get(resource_id)
    if known is None or remaining < known.remaining:
        found[resource_id] = Quota(resource_id=resource_id, remaining=remaining, limit=limit)


def quota_for_day(day: date) -> dict[str, Quota]:
    """{resource id: Quota} of one UTC day, for every resource HighLevel reported a daily quota for."""
    found: dict[str, Quota] = {}
    rows = RateLimitDay.objects.filter(day=day, reported_limit__isnull=False).values_list(
        "key", "reported_remaining", "reported_limit")
    for key, remaining, limit in rows:
        _merge(found, key.split(":", 1)[-1], remaining, limit)
    start = datetime.combine(day, time.min, tzinfo=UTC)
    calls = (ApiCall.objects.filter(at__gte=start, at__lt=start + timedelta(days=1), daily_remaining__isnull=False)
             .values("resource_id").annotate(remaining=Min("daily_remaining"), limit=Max("daily_limit")).order_by())
    for row in calls:
        _merge(found, row["resource_id"], row["remaining"], row["limit"])
    return found


def quota_today(now: datetime) -> dict[str, Quota]:
    return quota_for_day(now.astimezone(UTC).date())
