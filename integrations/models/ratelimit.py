from __future__ import annotations

from django.db import models


class RateLimitSlot(models.Model):
    """A sliding-window log kept as a ring of `limit` slots per bucket.

    A request claims the least recently used slot whose `used_at` is older than the window with a
    conditional UPDATE (so it holds on SQLite, where SELECT FOR UPDATE does nothing): at most
    `limit` requests can ever fall inside any window, across every process. One more row per bucket, slot
    2147483647, holds until when an ordinary request waits (background requests yield until then).
    """

    key = models.CharField(max_length=200)
    slot = models.PositiveIntegerField()
    used_at = models.FloatField(default=0.0)  # epoch seconds

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="ratelimit_slot_unique")]
        indexes = [models.Index(fields=["key", "used_at"])]

    def __str__(self) -> str:
        return f"{self.key}#{self.slot}"


class RateLimitDay(models.Model):
    """Requests counted per bucket and UTC day, and what HighLevel last reported of its daily quota."""

    key = models.CharField(max_length=200)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    reported_remaining = models.IntegerField(null=True, blank=True)
    reported_limit = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="ratelimit_day_unique")]

    def __str__(self) -> str:
        return f"{self.key} {self.day}: {self.count}"
