"""The client's address as allauth computes it (settings.TRUSTED_PROXY_COUNT), so the audit trail and the
login rate limits agree on who asked."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    try:
        return get_adapter(request).get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):  # fewer X-Forwarded-For entries than trusted proxies
        return None
