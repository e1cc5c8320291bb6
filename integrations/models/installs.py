from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

# How long a marketplace-started install waits for an admin's confirmation before it is discarded.
PENDING_INSTALL_TTL = timedelta(minutes=15)


class PendingInstallQuerySet(models.QuerySet):
    def live(self, now=None) -> PendingInstallQuerySet:
        return self.filter(expires_at__gt=now or timezone.now())

    def expired(self, now=None) -> PendingInstallQuerySet:
        return self.filter(expires_at__lte=now or timezone.now())


class PendingInstall(models.Model):
    """A grant from a callback without `state` (an install started in HighLevel's marketplace, not from
    Tagscope): its code was exchanged, but nothing is connected until a signed-in admin confirms what it
    is. The tokens are encrypted like a connection's; an unconfirmed install is deleted after 15 minutes."""

    user_type = models.CharField(max_length=20)  # "Location" or "Company", as HighLevel answered
    company_id = models.CharField(max_length=64, blank=True)
    location_id = models.CharField(max_length=64, blank=True)
    highlevel_user_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255, blank=True)  # from HighLevel, best effort: shown escaped
    # Agency installs: the names of the locations it reaches, one per line (best effort).
    location_names = models.TextField(blank=True)
    scopes = models.TextField(blank=True)
    access_token_enc = models.TextField(blank=True)
    refresh_token_enc = models.TextField(blank=True)
    expires_in = models.PositiveIntegerField(null=True, blank=True)  # the grant's, counted from confirmation
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    objects = PendingInstallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Pending {self.user_type} install {self.location_id or self.company_id}"

    @property
    def is_agency(self) -> bool:
        return self.user_type.lower() == "company"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def location_name_list(self) -> list[str]:
        return [line for line in self.location_names.splitlines() if line]
