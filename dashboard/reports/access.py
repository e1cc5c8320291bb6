"""Which reports, deliveries and links a user may reach, and the page headers reports are served with."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from dashboard.reports.models import Report, ReportDelivery, ShareLink
from dashboard.selectors.locations import locations_visible

# Reports are styled inline (the accent colour, chart swatches, bar widths) so that the page, its print, the
# PDF and the share page are one document; they run no script of their own. Pages keep the app's script rule.
REPORT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SHARE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'")


def reports_visible(user: Any):
    visible = locations_visible(user).values("pk")
    return (Report.objects.filter(location__in=visible) | Report.objects.filter(location__isnull=True)) \
        .select_related("location", "created_by")


def report_for(*, user: Any, pk: int) -> Report:
    return get_object_or_404(reports_visible(user), pk=pk)


def delivery_for(*, user: Any, pk: int) -> ReportDelivery:
    return get_object_or_404(ReportDelivery.objects.select_related("report", "report__location")
                             .filter(report__in=reports_visible(user)), pk=pk)


def share_link_for(*, user: Any, pk: int) -> ShareLink:
    return get_object_or_404(ShareLink.objects.select_related("created_by"), pk=pk)


def with_report_headers(response: HttpResponse, *, shared: bool = False) -> HttpResponse:
    response["Content-Security-Policy"] = SHARE_CSP if shared else REPORT_CSP
    if shared:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
    return response
