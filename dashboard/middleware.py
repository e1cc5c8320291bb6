"""Request id, security headers, unreadable query strings and the MFA requirement."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from dashboard.params import BadParameter, bad_request, query_problem
from integrations import logcontext

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Takes a sane X-Request-ID from the proxy or makes one; every log line of the request carries it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with logcontext.bound(logcontext.request_id, request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# allauth's MFA pages show the TOTP secret and the recovery codes; not all of them say no-store themselves.
SECRET_PAGE_PREFIXES = ("/accounts/2fa/",)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline scripts), no-store on pages that show secrets, and the headers
    Django leaves to us."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        # The OAuth start redirect leaves for the consent page; CSP's form-action covers redirects.
        consent = _origin(settings.HIGHLEVEL_AUTHORIZE_URL)
        # Post thumbnails are HighLevel's media URLs (https, on hosts it does not document); the sandbox
        # serves its own over plain http. Images only: no script or frame comes from there.
        sandbox = _origin(settings.HIGHLEVEL_API_BASE_URL) if settings.HIGHLEVEL_SANDBOX else ""
        images = f"img-src 'self' data: https: {sandbox}"
        self.policy = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                "style-src 'self'",
                images.strip(),
                "font-src 'self'",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                f"form-action 'self' {consent}".strip(),
                "frame-ancestors 'none'",
            ]
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.path.startswith(SECRET_PAGE_PREFIXES):
            add_never_cache_headers(response)
        return response


MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/webhooks/", "/favicon.ico")


class MFARequiredMiddleware:
    """With settings.MFA_REQUIRED, a signed-in user without MFA must set it up before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.MFA_REQUIRED
            and request.user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
        ):
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(request.user):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"error": {"code": "mfa_required", "message": "Set up two-factor authentication first."}},
                        status=403,
                    )
                from django.contrib import messages

                messages.info(request, "Your organisation requires two-factor authentication: set it up to continue.")
                return redirect("mfa_activate_totp")
        return self.get_response(request)


class BadQueryMiddleware:
    """Refuses, before any view, a query string that no view can read safely (see params.query_problem), and
    turns a BadParameter that a page let through into a 400 that says which value was wrong."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = query_problem(request.GET, request.path)
        if problem:
            return bad_request(request, problem)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadParameter):
            return bad_request(request, exception.message)
        return None
