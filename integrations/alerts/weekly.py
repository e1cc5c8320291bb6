"""Week-over-week totals of statistics, shared by the statistics-threshold rules and the weekly digest.

A week is the 7 complete days before `today` (today is still moving); the previous week the 7 before
that. Totals sum the all-accounts points (`profile_id` ''), of one platform or of all platforms ('').
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, Sum

from integrations.metrics import percent_change
from integrations.models import StatisticsPoint


@dataclass(frozen=True)
class Weeks:
    start: date
    end: date
    previous_start: date
    previous_end: date


@dataclass(frozen=True)
class Change:
    total: float | None
    previous: float | None

    @property
    def pct(self) -> float | None:
        """The change against the previous week in percent; None when there is nothing to compare."""
        return percent_change(self.total, self.previous)


def weeks_before(today: date) -> Weeks:
    end = today - timedelta(days=1)
    return Weeks(start=end - timedelta(days=6), end=end, previous_start=end - timedelta(days=13),
                 previous_end=end - timedelta(days=7))


def weekly_changes(*, location_pks: Iterable[int], metrics: Iterable[str], weeks: Weeks,
                   platform: str = "") -> dict[tuple[int, str], Change]:
    """{(location pk, metric): Change} in one query."""
    rows = (
        StatisticsPoint.objects.filter(
            location_id__in=list(location_pks), metric__in=list(metrics), profile_id=StatisticsPoint.ALL_ACCOUNTS,
            platform=platform, day__gte=weeks.previous_start, day__lte=weeks.end,
        )
        .values("location_id", "metric")
        .annotate(total=Sum("value", filter=Q(day__gte=weeks.start)),
                  previous=Sum("value", filter=Q(day__lte=weeks.previous_end)))
        .order_by()
    )
    return {(r["location_id"], r["metric"]): Change(total=r["total"], previous=r["previous"]) for r in rows}
