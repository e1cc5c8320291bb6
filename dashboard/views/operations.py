"""/operations/: is Tagscope healthy? And the weekly digest's preview."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from dashboard.roles import VIEW_OPERATIONS, requires
from dashboard.selectors.operations import operations_overview
from integrations.alerts.digest import digest_context, digest_recipients, digest_render

# The mail's HTML carries its styles inline (mail clients want that); this one response may use them,
# and only the preview page on our own origin may frame it. No script at all.
DIGEST_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'"


@require_GET
@requires(VIEW_OPERATIONS)
def operations(request: HttpRequest) -> HttpResponse:
    return render(request, "operations/overview.html", operations_overview())


@require_GET
@requires(VIEW_OPERATIONS)
def digest_preview(request: HttpRequest) -> HttpResponse:
    context = digest_context()
    subject, text, _html = digest_render(context)
    return render(request, "operations/digest_preview.html",
                  {**context, "subject": subject, "text": text, "recipients": digest_recipients()})


@require_GET
@requires(VIEW_OPERATIONS)
@xframe_options_sameorigin
def digest_preview_html(request: HttpRequest) -> HttpResponse:
    _subject, _text, html = digest_render(digest_context())
    response = HttpResponse(html)
    response["Content-Security-Policy"] = DIGEST_CSP
    return response
