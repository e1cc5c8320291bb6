from __future__ import annotations

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
        ]

    def __str__(self) -> str:
        return "Tagscope access"
