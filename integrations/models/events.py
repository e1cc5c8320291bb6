from __future__ import annotations

from django.db import models


class Event(models.Model):
    """Something that happened to the mirror or a credential. Consumers read by increasing id (the cursor)."""

    class Type(models.TextChoices):
        TAG_CREATED = "tag.created"
        TAG_UPDATED = "tag.updated"
        TAG_REMOVED = "tag.removed"
        TAG_DETAILS_UPDATED = "tag_details.updated"
        STATISTICS_UPDATED = "statistics.updated"
        SYNC_FAILED = "sync.failed"
        CONNECTION_NEEDS_RECONNECT = "connection.needs_reconnect"
        DESTINATION_PAUSED = "destination.paused"  # a webhook destination kept failing and was paused
        ALERT_RAISED = "alert.raised"  # integrations/alerts/ raised an operations alert
        ALERT_RESOLVED = "alert.resolved"  # ... and its condition cleared
        # Goals and health (integrations/attention/): each raised once per "needs attention" item.
        GOAL_OFF_TRACK = "goal.off_track"
        GOAL_ON_TRACK = "goal.on_track"
        STATISTICS_ANOMALY = "statistics.anomaly"
        ACCOUNT_EXPIRED = "account.expired"
        ACCOUNT_EXPIRING = "account.expiring"
        POST_FAILED = "post.failed"
        SCHEDULE_EMPTY = "schedule.empty"

    type = models.CharField(max_length=50, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    connection = models.ForeignKey(
        "integrations.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        "integrations.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_id = models.CharField(max_length=64, blank=True)  # e.g. the tag id
    payload = models.JSONField(default=dict)
    # The SyncRun that raised it (a plain id: runs are pruned, events are kept).
    run_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["location", "type", "id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type}"
