"""/healthz: anyone learns whether each check is ok; admins (VIEW_OPERATIONS) and callers holding the health
token (`Authorization: Bearer <HEALTHZ_TOKEN>`) also get the detail: database engine, queue length, worker,
overdue schedule, open alerts. The detail maps the deployment, so it is not for the public."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from dashboard.roles import PUBLIC, VIEW_OPERATIONS, has_permission, requires
from integrations.health import health_report


def _may_see_detail(request: HttpRequest) -> bool:
    if has_permission(request.user, VIEW_OPERATIONS):
        return True
    expected = settings.HEALTHZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                               expected.encode())


@never_cache
@requires(PUBLIC)
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    body = report.as_dict() if _may_see_detail(request) else report.as_summary()
    return JsonResponse(body, status=200 if report.ok else 503)
