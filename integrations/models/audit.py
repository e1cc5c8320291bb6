from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """Who did what to a credential, when and from where. Never holds a secret."""

    class Action(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECTED = "reconnected", "Reconnected"
        REFRESHED = "refreshed", "Token refreshed"
        REFRESH_FAILED = "refresh_failed", "Token refresh failed"
        ROTATED = "rotated", "Token rotated"
        TESTED = "tested", "Connection tested"
        RENAMED = "renamed", "Renamed"
        DISCONNECTED = "disconnected", "Disconnected"
        KEYS_ROTATED = "keys_rotated", "Encryption keys rotated"
        UNDECRYPTABLE = "undecryptable", "Stored secret unreadable"
        INSTALLED = "installed", "App installed"
        UNINSTALLED = "uninstalled", "App uninstalled"
        LOCATION_TOKEN = "location_token", "Location token minted"
        CONTRACT = "contract", "Statistics contract changed"
        INSTALL_PENDING = "install_pending", "Marketplace install awaiting confirmation"
        INSTALL_CONFIRMED = "install_confirmed", "Marketplace install confirmed"
        INSTALL_DISCARDED = "install_discarded", "Marketplace install discarded"
        INSTALL_EXPIRED = "install_expired", "Marketplace install expired unconfirmed"
        CAMPAIGN_MERGED = "campaign_merged", "Campaign names merged"
        CAMPAIGN_SPLIT = "campaign_split", "Campaign names split"

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=254, blank=True)  # "system", "HighLevel webhook", an email
    action = models.CharField(max_length=30, choices=Action.choices)
    connection = models.ForeignKey(
        "integrations.Connection", null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
