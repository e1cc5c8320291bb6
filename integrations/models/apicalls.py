from __future__ import annotations

from django.db import models


class ApiCall(models.Model):
    """One HighLevel request's outcome, for monitoring (latency, errors, 429s, quota).

    Never holds a token, a request body or a response body. Rows are pruned after
    `settings.RETENTION_API_CALLS_DAYS` (whole days, rolled up first into ApiCallDay: integrations/retention/).
    """

    at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=8)
    # The path template (`/social-media-posting/{locationId}/tags`), so calls group by endpoint.
    endpoint = models.CharField(max_length=200)
    resource_id = models.CharField(max_length=64, blank=True, db_index=True)
    connection_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    run_id = models.BigIntegerField(null=True, blank=True)
    status = models.IntegerField(null=True, blank=True)  # null: no HTTP answer (timeout, connection error)
    latency_ms = models.IntegerField()
    attempt = models.PositiveSmallIntegerField(default=1)
    error = models.CharField(max_length=64, blank=True)
    trace_id = models.CharField(max_length=100, blank=True)
    rate_limit_remaining = models.IntegerField(null=True, blank=True)
    daily_remaining = models.IntegerField(null=True, blank=True)
    daily_limit = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["resource_id", "at"]), models.Index(fields=["endpoint", "at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} -> {self.status}"
