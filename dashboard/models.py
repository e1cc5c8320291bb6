from __future__ import annotations

from django.conf import settings
from django.db import models


class Access(models.Model):
    """Holds Tagscope's permissions; no table. Roles (Django groups) are granted these by a migration."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("browse", "Browse locations, tags, tag details and statistics"),
            ("export", "Export tags and statistics as CSV"),
            ("refresh", "Start a refresh of HighLevel data"),
            ("manage_connections", "Connect, test, rotate and disconnect HighLevel credentials"),
            ("manage_destinations", "Manage webhook destinations and field mappings"),
            ("view_operations", "See sync runs, health and alerts"),
            ("manage_operations", "Retry and cancel runs, acknowledge alerts, edit schedules"),
            ("manage_users", "Create and invite users"),
            ("manage_campaigns", "Merge differently spelled tag names into one campaign, and split them"),
        ]

    def __str__(self) -> str:
        return "Tagscope access"


class ApiToken(models.Model):
    """A personal token for the read-only JSON API. Only a SHA-256 of it is stored; it is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # the first characters, so a user can tell tokens apart
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at <= timezone.now()


class CampaignAlias(models.Model):
    """An admin's merge: tags whose campaign slug is `slug` count as the campaign `into_slug`
    (dashboard/selectors/campaigns.py). Deleting the row splits them again."""

    slug = models.CharField(max_length=300, unique=True)
    into_slug = models.CharField(max_length=300, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["into_slug", "slug"]

    def __str__(self) -> str:
        return f"{self.slug} -> {self.into_slug}"


# Reports live in their own package; Django finds an app's models here.
from dashboard.reports.models import Branding, Report, ReportDelivery, ShareLink  # noqa: E402

__all__ = ["Access", "ApiToken", "Branding", "CampaignAlias", "Report", "ReportDelivery", "ShareLink"]
