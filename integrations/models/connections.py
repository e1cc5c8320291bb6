from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# How often each kind of data is refreshed, in minutes: from every minute to daily (admins change it per connection).
SYNC_EVERY_MIN, SYNC_EVERY_MAX = 1, 1440
_SYNC_EVERY = [MinValueValidator(SYNC_EVERY_MIN), MaxValueValidator(SYNC_EVERY_MAX)]


class ConnectionQuerySet(models.QuerySet):
    def usable(self) -> ConnectionQuerySet:
        """Connections whose credentials may be used (active, or expiring and still refreshable)."""
        return self.filter(status__in=Connection.USABLE)


class Connection(models.Model):
    """A HighLevel credential: an OAuth install (agency or one location) or a Private Integration token.

    Tokens are stored encrypted (integrations/crypto.py) in the `*_enc` columns and never leave through
    `__str__`, forms, the admin or logs. `token_version` grows with every saved token pair, so a process
    that waited for another's refresh can tell that the token it holds is stale.
    """

    class Kind(models.TextChoices):
        OAUTH_LOCATION = "oauth_location", "OAuth: one location"
        OAUTH_AGENCY = "oauth_agency", "OAuth: agency"
        PRIVATE_TOKEN = "private_token", "Private Integration token"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRING = "expiring", "Expiring"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        REVOKED = "revoked", "Revoked"
        DISCONNECTED = "disconnected", "Disconnected"

    USABLE = (Status.ACTIVE, Status.EXPIRING)

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    company_id = models.CharField(max_length=64, blank=True)
    location_id = models.CharField(max_length=64, blank=True)  # location installs and location PITs
    highlevel_user_id = models.CharField(max_length=64, blank=True)
    scopes = models.TextField(blank=True)  # space-separated, as granted

    access_token_enc = models.TextField(blank=True)
    refresh_token_enc = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_version = models.PositiveIntegerField(default=0)

    # A lease instead of a row lock: it holds on SQLite too, and no transaction spans the HTTP call.
    refresh_lease_until = models.DateTimeField(null=True, blank=True)
    refresh_lease_owner = models.CharField(max_length=100, blank=True)

    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Sync frequencies (minutes); the schedules named in integrations/sync/scheduling.py follow them.
    tags_every_minutes = models.PositiveIntegerField(default=15, validators=_SYNC_EVERY)
    statistics_every_minutes = models.PositiveIntegerField(default=60, validators=_SYNC_EVERY)
    accounts_every_minutes = models.PositiveIntegerField(default=1440, validators=_SYNC_EVERY)

    # The Version statistics (and posts) are asked with: blank is HIGHLEVEL_SOCIAL_API_VERSION (v3); the sync
    # writes LEGACY_SOCIAL_VERSION here when HighLevel refuses v3 or answers its ranges wrongly, and an admin's
    # "Try v3 again" (or the weekly re-probe) clears it. See docs/deploy.md, "Statistics contracts".
    social_api_version = models.CharField(max_length=20, blank=True)
    social_api_fallback_at = models.DateTimeField(null=True, blank=True)
    social_api_fallback_reason = models.CharField(max_length=500, blank=True)

    LEGACY_SOCIAL_VERSION = "2021-07-28"

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "company_id", "location_id"], name="connection_identity_unique")
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())

    @property
    def social_version(self) -> str:
        """The Version header statistics and posts are asked with for this connection."""
        return self.social_api_version or settings.HIGHLEVEL_SOCIAL_API_VERSION

    @property
    def statistics_ranges(self) -> bool:
        """Whether statistics may be asked for date ranges: only v3 documents them (docs/deploy.md)."""
        return self.social_version.lower() == "v3"

    @property
    def is_usable(self) -> bool:
        return self.status in self.USABLE


def version_new() -> int:
    """A data version no process has seen yet: random rather than counted, so that a location created again
    or a restored database (integrations/data_versions.py) never brings back a number an answer was kept
    under with other data."""
    return secrets.randbits(62)


class LocationQuerySet(models.QuerySet):
    def syncable(self) -> LocationQuerySet:
        """Installed locations of usable connections: the ones a refresh may run for."""
        return self.filter(is_installed=True, connection__status__in=Connection.USABLE)


class Location(models.Model):
    """A HighLevel location (sub-account) Tagscope mirrors. Survives its connection's disconnection."""

    location_id = models.CharField(max_length=64, unique=True)  # HighLevel's locationId
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations"
    )
    company_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255)
    timezone = models.CharField(max_length=64, default="UTC")
    address = models.CharField(max_length=500, blank=True)
    # Agency installs: a location token minted from the agency token, again whenever it expires.
    token_enc = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    is_installed = models.BooleanField(default=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Sync state for the overview: the first and last fully successful refresh, the latest outcome.
    first_synced_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_status = models.CharField(max_length=10, blank=True)  # a SyncRun.Status value
    last_sync_error = models.CharField(max_length=500, blank=True)
    # The first complete tag listing (the baseline: its tags raise no tag.created).
    tags_baselined_at = models.DateTimeField(null=True, blank=True)
    # The location's tags counted by the sync after its writes (integrations/tag_counts.py), so the tag list
    # need not COUNT(*) a million rows per request. Null until the first sync stores them (then counted live).
    tag_count_active = models.PositiveIntegerField(null=True, blank=True)
    tag_count_removed = models.PositiveIntegerField(null=True, blank=True)
    # Posts are mirrored from here on: the earliest start of a complete posts listing. Once it reaches the
    # statistics horizon, refreshes re-read only the recent window (integrations/sync/posts.py).
    posts_covered_from = models.DateTimeField(null=True, blank=True)
    # Under the 2021-07-28 statistics contract: the location's day on which HighLevel's default window (the
    # last 7 days) was last stored; it is asked once a day (integrations/sync/statistics_window.py).
    statistics_window_on = models.DateField(null=True, blank=True)
    # What the location's figures are computed from, as versions the dashboard keeps answers by
    # (dashboard/selectors/performance_memo.py): each write of the sync gives the data it changed a new one, in
    # the same transaction (integrations/data_versions.py). Tags, posts and their links; statistics points
    # (their rollups) and demographics.
    tags_version = models.BigIntegerField(default=version_new)
    statistics_version = models.BigIntegerField(default=version_new)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.location_id})"

    @property
    def can_refresh(self) -> bool:
        """The rule `Location.objects.syncable()` applies, for one loaded row."""
        return self.is_installed and self.connection is not None and self.connection.is_usable
