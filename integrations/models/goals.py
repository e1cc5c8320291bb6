"""What admins ask of a location: goals with pacing, and how its anomaly alerts behave (integrations/attention/)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Goal(models.Model):
    """A target for one location, over a week (posts) or a calendar month (the rest), in the location's time zone.

    `platform` '' is every platform together. Pacing is computed, never stored (integrations/attention/goals.py);
    `state` is the last pacing state seen by the alert check, so a change can raise `goal.off_track` or
    `goal.on_track` once.
    """

    class Kind(models.TextChoices):
        POSTS_PER_WEEK = "posts_per_week", "Posts per week"
        ENGAGEMENT_PER_POST = "engagement_per_post", "Engagement per post (month)"
        FOLLOWER_GROWTH = "follower_growth_per_month", "Follower growth per month"
        IMPRESSIONS = "impressions_per_month", "Impressions per month"

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="goals")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    platform = models.CharField(max_length=20, blank=True)
    target = models.FloatField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["location", "kind", "platform", "id"]
        constraints = [models.UniqueConstraint(fields=["location", "kind", "platform"], name="goal_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target:g}" + (f" on {self.platform}" if self.platform else "")

    @property
    def expects_posts(self) -> bool:
        return self.kind == self.Kind.POSTS_PER_WEEK and self.target > 0


class AnomalyMute(models.Model):
    """Anomaly alerts switched off for one location and metric (every platform)."""

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="anomaly_mutes")
    metric = models.CharField(max_length=30)
    muted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    muted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["location", "metric"]
        constraints = [models.UniqueConstraint(fields=["location", "metric"], name="anomalymute_unique")]

    def __str__(self) -> str:
        return f"{self.metric} muted"


class AnomalyThreshold(models.Model):
    """How far (in robust standard deviations) a day must stray from its baseline to alarm; a row with no
    location is the default for every location, a location's own row overrides it."""

    location = models.OneToOneField("integrations.Location", null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="anomaly_threshold")
    threshold = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location"], condition=models.Q(location__isnull=True),
                                               name="anomalythreshold_one_default")]

    def __str__(self) -> str:
        return f"threshold {self.threshold:g}"


class AnomalyCheck(models.Model):
    """The anomaly detector's last answer for one location, and what it was computed from (`inputs`: the
    judged day, the statistics run whose points it read, the threshold, the watched metrics). The check runs
    every minute; while the inputs are the same it reuses `findings` instead of reading 29 days of points and
    judging every series again (integrations/attention/health.py)."""

    location = models.OneToOneField("integrations.Location", on_delete=models.CASCADE, related_name="anomaly_check")
    inputs = models.CharField(max_length=300)
    findings = models.JSONField(default=list)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"anomaly check of {self.checked_at:%Y-%m-%d %H:%M}"
