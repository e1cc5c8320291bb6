"""Reports: list, build and edit, read (HTML that prints well), PDF, CSV, send now, delete."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.exports import csv_response
from dashboard.forms.reports import ReportForm, SendForm, ShareForm
from dashboard.reports.access import report_for, reports_visible, with_report_headers
from dashboard.reports.mailing import DeliveryRefused, report_deliver, report_schedule_update
from dashboard.reports.render import report_context, report_csv_rows, report_filename, report_pdf
from dashboard.reports.snapshot import ReportSubjectGone, report_snapshot
from dashboard.roles import BROWSE, EXPORT, requires
from dashboard.selectors.campaigns import campaign_names_shared


@require_GET
@requires(BROWSE)
def report_list(request: HttpRequest) -> HttpResponse:
    reports = reports_visible(request.user).order_by("name", "pk")
    return render(request, "reports/list.html", {"reports": reports})


def _edit(request: HttpRequest, form: ReportForm, *, created: bool) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        report = form.save(commit=False)
        if created:
            report.created_by = request.user
        report.save()
        report_schedule_update(report, now=timezone.now())
        messages.success(request, "Report saved." + (" It will be mailed on schedule." if report.cadence else ""))
        return redirect("report_detail", pk=report.pk)
    return render(request, "reports/form.html",
                  {"form": form, "created": created, "campaigns": campaign_names_shared()})


@require_http_methods(["GET", "POST"])
@requires(EXPORT)
def report_add(request: HttpRequest) -> HttpResponse:
    initial = {"location": request.GET.get("location")} if request.GET.get("location") else {}
    return _edit(request, ReportForm(request.POST or None, initial=initial), created=True)


@require_http_methods(["GET", "POST"])
@requires(EXPORT)
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(user=request.user, pk=pk)
    return _edit(request, ReportForm(request.POST or None, instance=report), created=False)


def _snapshot_or_message(request: HttpRequest, report):
    try:
        return report_snapshot(report, now=timezone.now())
    except ReportSubjectGone as exc:
        messages.error(request, str(exc))
        return None


@require_GET
@requires(BROWSE)
def report_show(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(user=request.user, pk=pk)
    snapshot = _snapshot_or_message(request, report)
    context = {"report": report, "send_form": SendForm(initial={"recipients": report.recipients}),
               "share_form": ShareForm(), "deliveries": report.deliveries.all()[:5]}
    if snapshot is not None:
        context.update(report_context(snapshot))
    return with_report_headers(render(request, "reports/show.html", context))


def _download(request: HttpRequest, pk: int, make: Callable[[dict], HttpResponse]) -> HttpResponse:
    """`make` answers the report's current snapshot; without one (its subject is gone), back to its page, which
    says why."""
    snapshot = _snapshot_or_message(request, report_for(user=request.user, pk=pk))
    return redirect("report_detail", pk=pk) if snapshot is None else make(snapshot)


def _pdf_response(snapshot: dict) -> HttpResponse:
    response = HttpResponse(report_pdf(snapshot), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{report_filename(snapshot, "pdf")}"'
    return response


@require_GET
@requires(BROWSE)
def report_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _download(request, pk, _pdf_response)


@require_GET
@requires(EXPORT)
def report_csv_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _download(request, pk, lambda snapshot: csv_response(report_csv_rows(snapshot),
                                                                filename=report_filename(snapshot, "csv")))


@require_POST
@requires(EXPORT)
def report_send(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(user=request.user, pk=pk)
    form = SendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("recipients", ["Name at least one recipient."])))
        return redirect("report_detail", pk=pk)
    try:
        delivery = report_deliver(report, now=timezone.now(), trigger="manual", user=request.user,
                                  recipients=form.cleaned_data["recipients"].splitlines())
    except DeliveryRefused as exc:
        messages.error(request, str(exc))
        return redirect("report_detail", pk=pk)
    if delivery.status == delivery.Status.QUEUED:
        messages.success(request, f"Queued for {', '.join(delivery.recipients)}; the mailing shows its progress.")
    else:
        messages.error(request, f"Not sent: {delivery.error}")
    return redirect("report_delivery", pk=delivery.pk)


@require_POST
@requires(EXPORT)
def report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(user=request.user, pk=pk)
    report.delete()
    messages.success(request, f"Report “{report.name}” deleted; its share links keep working until they expire.")
    return redirect("reports")
