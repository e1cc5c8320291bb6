"""Sync runs and the leases that keep one location's refresh of one kind to one worker at a time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class SyncRun(models.Model):
    """One refresh: a unit (one kind for one location) or a bulk run (a location, connection or all) whose
    children are units. Created `queued` when enqueued, so the UI can poll it at once.

    A unit that finds another live run of the same location and kind is recorded with status `skipped`
    and `skipped_for` pointing at that run.
    """

    class Kind(models.TextChoices):
        TAGS = "tags", "Tags"
        ACCOUNTS = "accounts", "Accounts"
        STATISTICS = "statistics", "Statistics"
        LOCATION = "location", "Everything of a location"
        CONNECTION = "connection", "Everything of a connection"
        ALL = "all", "Everything"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting to try again"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    UNIT_KINDS = (Kind.TAGS, Kind.ACCOUNTS, Kind.STATISTICS)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED)
    LIVE = (Status.QUEUED, Status.RUNNING, Status.WAITING)
    # Someone asked for these and is waiting for the answer: they retry briefly (integrations/sync/runs.py).
    ON_DEMAND_TRIGGERS = ("manual", "command", "retry")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, default="manual")  # manual, schedule, retry, command, devstack
    location = models.ForeignKey(
        "integrations.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="sync_runs"
    )
    connection = models.ForeignKey(
        "integrations.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_runs"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    skipped_for = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # created, updated, removed, unchanged, rows_written, requests
    error = models.TextField(blank=True)
    problems = models.JSONField(default=list)  # bad data HighLevel sent, one line each
    trace_ids = models.JSONField(default=list)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["location", "kind", "-id"], name="syncrun_loc_kind"),
            models.Index(fields=["status", "-id"], name="syncrun_status"),
            # The nightly prune finds runs past their window by it (integrations/retention/rules.py).
            models.Index(fields=["created_at"], name="syncrun_created"),
        ]

    def __str__(self) -> str:
        return f"run #{self.pk} {self.kind} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def is_on_demand(self) -> bool:
        return self.trigger in self.ON_DEMAND_TRIGGERS

    def as_api_dict(self) -> dict[str, Any]:
        """What `GET /api/v1/runs/<id>/` answers (README.md, "Browsing and the JSON API"). While a run waits
        to try again, `attempt` is the attempt that failed, `next_attempt_at` when the next one starts and
        `error` why; a parent carries those of its unit that comes back first."""
        return {
            "id": self.pk,
            "kind": self.kind,
            "status": self.status,
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "attempt": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "counts": dict(self.counts),
            "error": self.error or None,
        }


class SyncLease(models.Model):
    """Who is refreshing `kind` of a location, until when. Claimed with a conditional UPDATE whose row
    count says who won (holds on SQLite, where SELECT FOR UPDATE does nothing); renewed while working."""

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.CharField(max_length=100, blank=True)
    until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "kind"], name="synclease_unique")]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.kind} held by {self.owner or '-'} until {self.until}"
