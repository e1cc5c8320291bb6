"""Rollups of the mirror's statistics that agency-wide pages read instead of every location's raw rows."""

from __future__ import annotations

from django.db import models


class StatisticsSums(models.Model):
    """Statistics points of one platform and metric summed. `points` counts the raw rows (a row with no value
    included), `reported` those holding a number: the sum of nothing but gaps is a gap (None), never zero,
    exactly as SUM() over the raw rows answers."""

    platform = models.CharField(max_length=20)
    metric = models.CharField(max_length=30)
    total = models.FloatField(default=0.0)
    reported = models.IntegerField(default=0)
    points = models.IntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def value(self) -> float | None:
        return self.total if self.reported else None


class AgencyDay(StatisticsSums):
    """Every location's all-accounts statistics points (`profile_id` '') of one day, platform and metric,
    summed: what the agency statistics page reads, so that 365 days cost the same at 2 or 200 locations.
    Kept in step by integrations/sync/agency_rollup.py as the points are written or deleted."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "platform", "metric"], name="agencyday_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.platform} {self.metric}={self.value} ({self.points} points)"


class AgencyDayChange(StatisticsSums):
    """A move of AgencyDay not yet folded into it: the sync's writes append these (in the transaction that
    writes the points) instead of adding to AgencyDay's rows themselves. Every location's statistics write
    touched the same day's rows there, and on PostgreSQL each such transaction waited for the others' row
    locks while holding one of its worker's few pooled connections: at 200 locations a sync's units queued
    on those locks, then on the pool. Appended rows have no key to wait on. `agency_days_fold` moves them
    into AgencyDay (one folder at a time); readers add what is still here (integrations/sync/agency_rollup.py),
    so the sums are exact whether or not a fold has run."""

    day = models.DateField()

    def __str__(self) -> str:
        return f"{self.day} {self.platform} {self.metric} moves by {self.total} ({self.points} points)"


class LocationMonth(StatisticsSums):
    """One location's all-accounts statistics points of one calendar month, platform and metric, summed: what
    the rankings and goal pacing read for whole months, so a year costs 12 rows per location and series
    instead of 365 (the days of a range's partial months are read raw, or subtracted from their month).
    Kept in step by integrations/sync/agency_rollup.py in the transaction that writes the points; a
    location's deletion takes its rows with it (CASCADE)."""

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # its first day

    class Meta:
        # Metric first: a ranking reads one metric (or engagement's three) of every location and month.
        constraints = [models.UniqueConstraint(fields=["metric", "month", "location", "platform"],
                                               name="locationmonth_unique")]

    def __str__(self) -> str:
        return (f"{self.location_id} {self.month:%Y-%m} {self.platform} {self.metric}={self.value} "
                f"({self.points} points)")
