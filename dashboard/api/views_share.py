"""Share links over the API: make one for a location's report, revoke one (docs/api.md)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from dashboard.api.base import ApiError, api_view
from dashboard.reports.access import reports_visible, share_link_for
from dashboard.reports.share import ShareRefused, share_link_create, share_link_revoke, share_url
from dashboard.reports.snapshot import ReportSubjectGone
from dashboard.roles import EXPORT
from dashboard.selectors.locations import location_for


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


@api_view(EXPORT, methods=("POST",))
def share_link_create_view(request: HttpRequest, location_id: str) -> JsonResponse:
    location = location_for(user=request.user, location_id=location_id)
    body = _body(request)
    report = None
    if body.get("report_id") is not None:
        report = reports_visible(request.user).filter(pk=body["report_id"] if isinstance(body["report_id"], int)
                                                      else 0, location=location).first()
        if report is None:
            raise ApiError(400, "bad_request", "report_id is not a report of this location.")
    try:
        link, token = share_link_create(user=request.user, now=timezone.now(), days=body.get("days"),
                                        report=report, location=None if report else location)
    except ShareRefused as exc:
        raise ApiError(exc.status, "bad_request", str(exc)) from None
    except ReportSubjectGone as exc:
        raise ApiError(409, "report_unavailable", str(exc)) from None
    return JsonResponse({"id": link.pk, "url": share_url(token), "expires_at": link.expires_at.isoformat()},
                        status=201)


@api_view(EXPORT, methods=("DELETE",))
def share_link_delete_view(request: HttpRequest, link_id: int) -> HttpResponse:
    link = share_link_for(user=request.user, pk=link_id)
    try:
        share_link_revoke(link, user=request.user, now=timezone.now())
    except ShareRefused as exc:
        raise ApiError(exc.status, "forbidden", str(exc)) from None
    return HttpResponse(status=204)
