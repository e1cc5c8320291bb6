"""The run history: filtered, paginated SyncRuns, and one run's timeline."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from integrations.models import ApiCall, SyncRun
from integrations.sync.runs import CANCELLABLE

PER_PAGE = 50
CALLS_SHOWN = 200


def runs_filtered(filters: dict[str, Any]) -> QuerySet[SyncRun]:
    """`filters`: a valid RunFilterForm's cleaned_data (empty values mean no filter)."""
    runs = SyncRun.objects.all()
    if filters.get("status"):
        runs = runs.filter(status=filters["status"])
    if filters.get("kind"):
        runs = runs.filter(kind=filters["kind"])
    if filters.get("location"):
        runs = runs.filter(location=filters["location"])
    if filters.get("connection"):
        runs = runs.filter(connection=filters["connection"])
    tz = timezone.get_current_timezone()
    if filters.get("since"):
        runs = runs.filter(created_at__gte=datetime.combine(filters["since"], time.min, tzinfo=tz))
    if filters.get("until"):
        runs = runs.filter(created_at__lt=datetime.combine(filters["until"] + timedelta(days=1), time.min, tzinfo=tz))
    return runs


def runs_page(runs: QuerySet[SyncRun], page: str | int | None) -> Page:
    runs = runs.select_related("location", "connection", "requested_by").order_by("-id")
    found = Paginator(runs, PER_PAGE).get_page(page)
    for run in found.object_list:
        run.took = took(run)
    return found


def took(run: SyncRun) -> str:
    """How long a finished run took, readably ("4 s", "3 min 20 s", "2 h 5 min"); "" if unfinished."""
    if not (run.finished_at and run.started_at):
        return ""
    return readable_seconds((run.finished_at - run.started_at).total_seconds())


def readable_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def run_timeline(run: SyncRun) -> dict[str, Any]:
    """A run's story: when it was queued, started, waited, finished; its units; its retries; its calls."""
    steps: list[dict[str, Any]] = [{"at": run.created_at, "what": f"Queued ({run.trigger})"}]
    if run.started_at:
        steps.append({"at": run.started_at, "what": f"Started{' on ' + run.worker if run.worker else ''}"})
    if run.status == SyncRun.Status.WAITING and run.next_attempt_at:
        steps.append({"at": run.next_attempt_at, "what": f"Will try again (attempt {run.attempts + 1})"})
    if run.finished_at:
        steps.append({"at": run.finished_at, "what": f"Finished: {run.get_status_display()}"})
    calls = list(ApiCall.objects.filter(run_id=run.pk).order_by("at", "id")[:CALLS_SHOWN])
    return {
        "run": run,
        "steps": steps,
        "duration": took(run),
        "children": list(run.children.select_related("location").order_by("id")),
        "retries": list(SyncRun.objects.filter(retry_of=run).order_by("id")),
        "calls": calls,
        "call_count": ApiCall.objects.filter(run_id=run.pk).count() if len(calls) == CALLS_SHOWN else len(calls),
        "can_cancel": run.status in CANCELLABLE,
        "next_attempt_in": readable_seconds((run.next_attempt_at - timezone.now()).total_seconds())
                           if run.next_attempt_at else "",
        "on_demand_attempts": settings.SYNC_ON_DEMAND_ATTEMPTS,
        # Older runs' calls were pruned (their daily totals stay on the Operations page).
        "calls_kept_days": settings.RETENTION_API_CALLS_DAYS,
        "calls_pruned": run.created_at < timezone.now() - timedelta(days=settings.RETENTION_API_CALLS_DAYS),
    }
