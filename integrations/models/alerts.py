"""Alerts raised by integrations/alerts/, the statistics rules admins define, and who wants the weekly digest."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Alert(models.Model):
    """One occurrence of a condition, from raised to resolved.

    `dedupe_key` names the condition (`location.failing:<locationId>`); at most one alert per key is
    open or acknowledged at a time (a partial unique constraint), so a condition that holds for days is
    one alert whose `last_seen_at` moves. Acknowledging stops re-notification; the alert still resolves
    by itself when the condition clears.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Severity(models.TextChoices):
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    ACTIVE = (State.OPEN, State.ACKNOWLEDGED)

    kind = models.CharField(max_length=40, db_index=True)
    dedupe_key = models.CharField(max_length=200)
    state = models.CharField(max_length=15, choices=State.choices, default=State.OPEN)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    context = models.JSONField(default=dict)
    connection = models.ForeignKey(
        "integrations.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        "integrations.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey("integrations.AlertRule", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="alerts")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # Notification bookkeeping: claimed with a conditional UPDATE on `notified_at`, so two evaluators
    # running at once send one email.
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_count = models.PositiveIntegerField(default=0)
    resolved_notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=Q(state__in=["open", "acknowledged"]),
                                    name="alert_one_active_per_key"),
        ]
        indexes = [models.Index(fields=["state", "-last_seen_at"], name="alert_state_seen")]

    def __str__(self) -> str:
        return f"{self.dedupe_key} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE


class AlertRule(models.Model):
    """A statistics threshold an admin defined: a metric's last 7 days against the 7 days before,
    or against a fixed number, for one location or every location."""

    class Comparison(models.TextChoices):
        DROPS_BY = "drops_by", "falls by more than (%) week over week"
        RISES_BY = "rises_by", "rises by more than (%) week over week"
        BELOW = "below", "weekly total is below"
        ABOVE = "above", "weekly total is above"

    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=30)  # a StatisticsPoint metric: impressions, reach, posts, ...
    platform = models.CharField(max_length=20, blank=True)  # '' = all platforms
    comparison = models.CharField(max_length=10, choices=Comparison.choices, default=Comparison.DROPS_BY)
    threshold = models.FloatField()
    location = models.ForeignKey("integrations.Location", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+", help_text="Empty: every location.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class NotificationPreference(models.Model):
    """A user's mail choices (the weekly statistics digest is opt-in)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_pref")
    weekly_digest = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} digest={'on' if self.weekly_digest else 'off'}"
