"""The run history: filter, read a run's timeline, retry failed runs (one or all in the filter), cancel."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dashboard.forms.operations import RunFilterForm
from dashboard.params import Params
from dashboard.roles import MANAGE_OPERATIONS, VIEW_OPERATIONS, has_permission, requires
from dashboard.selectors.operations_runs import run_timeline, runs_filtered, runs_page
from integrations.models import SyncRun
from integrations.operations.runs import run_retry_failed_unit, runs_retry_failed, runs_retryable_count
from integrations.sync.runs import run_cancel

FILTER_FIELDS = ("status", "kind", "location", "connection", "since", "until")


def _filters(data) -> tuple[RunFilterForm, dict]:
    """The form, and its valid filters: a bad one is left out (and its error shown beside it), not all."""
    form = RunFilterForm(data)
    form.is_valid()
    return form, form.cleaned_data


@require_GET
@requires(VIEW_OPERATIONS)
def run_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request.GET)
    params = Params(request.GET, strict=False)
    page = params.page()
    params.report(request)
    runs = runs_filtered(filters)
    query = urlencode({k: v for k, v in request.GET.items() if k in FILTER_FIELDS and v})
    return render(request, "operations/runs.html", {
        "form": form, "page": runs_page(runs, page), "query": query,
        "retryable": runs_retryable_count(runs),
        "can_manage": has_permission(request.user, MANAGE_OPERATIONS),
        "kept_days": settings.RETENTION_SYNC_RUNS_DAYS, "kept_last": settings.RETENTION_SYNC_RUNS_KEEP,
    })


@require_GET
@requires(VIEW_OPERATIONS)
def run_show(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.select_related("location", "connection", "parent", "retry_of"), pk=pk)
    context = run_timeline(run)
    context["can_manage"] = has_permission(request.user, MANAGE_OPERATIONS)
    return render(request, "operations/run_detail.html", context)


@require_POST
@requires(MANAGE_OPERATIONS)
def run_retry(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=pk)
    again = run_retry_failed_unit(run=run, actor=request.user)
    if again is None:
        messages.error(request, f"Run #{run.pk} did not fail; there is nothing to retry.")
        return redirect("operations_run", pk=run.pk)
    messages.success(request, f"Retrying run #{run.pk} as run #{again.pk}.")
    return redirect("operations_run", pk=again.pk)


@require_POST
@requires(MANAGE_OPERATIONS)
def runs_retry_all_failed(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request.POST)
    if not form.is_valid():
        messages.error(request, "Those filters are not valid; nothing was retried.")
        return redirect("operations_runs")
    bulk = runs_retry_failed(runs=runs_filtered(filters), actor=request.user)
    if bulk is None:
        messages.info(request, "No failed run in this filter is waiting for a retry.")
        query = urlencode({k: v for k, v in request.POST.items() if k in FILTER_FIELDS and v})
        return redirect(f"{reverse('operations_runs')}?{query}")
    messages.success(request, f"Retrying {bulk.progress_total} failed unit(s) as run #{bulk.pk}.")
    return redirect("operations_run", pk=bulk.pk)


@require_POST
@requires(MANAGE_OPERATIONS)
def run_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=pk)
    cancelled = run_cancel(run=run, actor=request.user)
    if cancelled:
        messages.success(request, f"Cancelled {cancelled} queued unit(s) of run #{run.pk}.")
    else:
        messages.error(request, f"Run #{run.pk} is not queued any more; nothing was cancelled.")
    return redirect("operations_run", pk=run.pk)
