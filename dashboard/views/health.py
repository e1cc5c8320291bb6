from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from dashboard.roles import PUBLIC, requires
from integrations.health import health_report


@never_cache
@requires(PUBLIC)
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)
