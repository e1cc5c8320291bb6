from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Written every minute by a django-q2 schedule, so /healthz can tell that a worker is alive."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
