"""What outlives the pruning of raw rows (docs/deploy.md, "Retention"): daily call rollups, and a record
of each prune."""

from __future__ import annotations

from django.db import models


class ApiCallDay(models.Model):
    """One UTC day of HighLevel calls of one connection, rolled up from ApiCall before those rows are pruned,
    so the Operations charts read history beyond the ApiCall window (integrations/retention/rollup.py)."""

    day = models.DateField()
    connection_id = models.BigIntegerField(null=True, blank=True)
    calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)  # 429s
    retries = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # Calls per latency bucket (ms, as a string key): percentiles of several rows merge exactly.
    histogram = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["day", "connection_id"], name="apicallday_day")]

    def __str__(self) -> str:
        return f"{self.day} connection {self.connection_id}: {self.calls} calls"


class PruneRun(models.Model):
    """One pass of `tagscope.prune` or `manage.py prune`: when, how long, rows deleted and table sizes after."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0.0)
    trigger = models.CharField(max_length=20, default="schedule")  # schedule, command
    dry_run = models.BooleanField(default=False)
    deleted = models.JSONField(default=dict)  # {table label: rows deleted (or that would be, dry run)}
    rolled_up_days = models.PositiveIntegerField(default=0)
    sizes = models.JSONField(default=list)  # [{"table", "label", "rows", "bytes"}] after the prune
    database_bytes = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"prune #{self.pk} at {self.started_at:%Y-%m-%d %H:%M}"
