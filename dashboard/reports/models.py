"""Client reports: the agency's branding, saved reports with their schedule, each mailing's delivery row, and
share links. Lifecycles and where each lives: docs/architecture.md, "Reports"."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

SECTIONS = {
    "kpis": "KPI cards with change",
    "charts": "Charts per metric and platform",
    "demographics": "Audience demographics",
    "posts": "Top and bottom posts",
    "scorecard": "Tag scorecard",
    "goals": "Goals and their pacing (when set)",
    "note": "A written note from you",
}
DEFAULT_SECTIONS = list(SECTIONS)


class Branding(models.Model):
    """The agency's look, one row (pk 1), set by admins; read by reports, share pages and report mail.

    The logo is kept as re-encoded PNG bytes (dashboard/reports/branding.py proves and re-encodes uploads), so
    it never needs a media store and never carries what the upload carried besides pixels."""

    agency_name = models.CharField(max_length=120, blank=True)
    logo_png = models.BinaryField(blank=True, default=b"")
    logo_width = models.PositiveIntegerField(default=0)
    logo_height = models.PositiveIntegerField(default=0)
    accent = models.CharField(max_length=7, default="#2f5bd3")
    footer = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    def __str__(self) -> str:
        return self.agency_name or "Branding"

    @classmethod
    def current(cls) -> Branding:
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Report(models.Model):
    class Period(models.TextChoices):
        LAST_7 = "7d", "Last 7 days"
        LAST_30 = "30d", "Last 30 days"
        LAST_MONTH = "last_month", "Last month"
        LAST_QUARTER = "last_quarter", "Last quarter"
        CUSTOM = "custom", "Custom range"

    class Cadence(models.TextChoices):
        NONE = "", "Not scheduled"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    name = models.CharField(max_length=200)
    location = models.ForeignKey("integrations.Location", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    campaign = models.CharField(max_length=255, blank=True)  # a campaign's name as typed (campaign_tags)
    period = models.CharField(max_length=20, choices=Period.choices, default=Period.LAST_MONTH)
    custom_start = models.DateField(null=True, blank=True)
    custom_end = models.DateField(null=True, blank=True)
    sections = models.JSONField(default=list)
    note = models.TextField(blank=True, max_length=2000)
    cadence = models.CharField(max_length=10, choices=Cadence.choices, blank=True, default="")
    weekday = models.PositiveSmallIntegerField(default=0)  # 0 = Monday (weekly)
    send_hour = models.PositiveSmallIntegerField(default=8)  # in the report's time zone
    recipients = models.TextField(blank=True)  # one address a line or comma-separated
    review_before_send = models.BooleanField(default=False)
    next_send_at = models.DateTimeField(null=True, blank=True)  # UTC; claimed by a conditional UPDATE
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(
            condition=(Q(location__isnull=False) & Q(campaign="")) | (Q(location__isnull=True) & ~Q(campaign="")),
            name="report_location_xor_campaign")]
        indexes = [models.Index(fields=["next_send_at"], name="report_next_send")]

    def __str__(self) -> str:
        return self.name

    @property
    def timezone_name(self) -> str:
        return (self.location.timezone if self.location_id and self.location and self.location.timezone
                else "UTC")

    @property
    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace(",", "\n").splitlines() if a.strip()]


class ReportDelivery(models.Model):
    """One mailing of a report: its snapshot (what was or will be sent), to whom, and what became of it."""

    class Status(models.TextChoices):
        HELD = "held", "Held for review"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"
        DISCARDED = "discarded", "Discarded"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices)
    trigger = models.CharField(max_length=10, default="schedule")  # schedule, manual, resend
    recipients = models.JSONField(default=list)
    bounced = models.JSONField(default=list)  # addresses refused at sending or bounced later (a DSN)
    bounce_reports = models.JSONField(default=list)  # each DSN recipient read: recipient, action, status, diagnostic
    period_start = models.DateField()
    period_end = models.DateField()
    snapshot = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    progress = models.CharField(max_length=60, blank=True)  # while sending: the step the worker is at
    # When it was last handed to the worker (queued) or taken by one (sending): how the minute sweep tells a
    # lost task or a dead worker from a mailing on its way.
    handed_at = models.DateTimeField(null=True, blank=True)
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="reportdelivery_status")]

    def __str__(self) -> str:
        return f"{self.report_id} {self.period_start}..{self.period_end} {self.status}"


def share_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ShareLinkQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> ShareLinkQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ShareLink(models.Model):
    """A read-only link to one report's snapshot. Only a SHA-256 of the token is stored."""

    MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 90, 30

    digest = models.CharField(max_length=64, unique=True)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="share_links")
    location = models.ForeignKey("integrations.Location", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    campaign = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=200)
    snapshot = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"share link {self.pk} ({self.title})"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())
