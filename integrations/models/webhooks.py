from __future__ import annotations

from django.db import models


class InboundWebhook(models.Model):
    """Each accepted HighLevel app webhook, by its webhookId: a second delivery of the same id is a replay."""

    webhook_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=50)
    received_at = models.DateTimeField(db_index=True)
    company_id = models.CharField(max_length=64, blank=True)
    location_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"
