"""Roles and the one permission check every view goes through.

Admin and Marketer are Django groups (created by migration 0002) holding `dashboard.Access`
permissions. Views declare what they need with `@requires(...)`; a URL whose view carries no
declaration fails tests/dashboard/test_url_permissions.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

ADMIN = "Admin"
MARKETER = "Marketer"

BROWSE = "browse"
EXPORT = "export"
REFRESH = "refresh"
MANAGE_CONNECTIONS = "manage_connections"
MANAGE_DESTINATIONS = "manage_destinations"
VIEW_OPERATIONS = "view_operations"
MANAGE_OPERATIONS = "manage_operations"
MANAGE_USERS = "manage_users"
MANAGE_CAMPAIGNS = "manage_campaigns"

ALL_PERMISSIONS = [
    BROWSE, EXPORT, REFRESH, MANAGE_CONNECTIONS, MANAGE_DESTINATIONS,
    VIEW_OPERATIONS, MANAGE_OPERATIONS, MANAGE_USERS, MANAGE_CAMPAIGNS,
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMIN: ALL_PERMISSIONS,
    MARKETER: [BROWSE, EXPORT],
}
PUBLIC = "public"


def has_permission(user: Any, permission: str) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(f"dashboard.{permission}"))


def is_admin(user: Any) -> bool:
    return has_permission(user, MANAGE_CONNECTIONS)


def requires(*permissions: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed-in users holding every named permission pass; others are sent to sign in or get 403.

    `requires(PUBLIC)` marks a view that anyone may call (health checks, signed webhooks), so that
    being public is a visible decision rather than a forgotten check.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if PUBLIC not in permissions:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not all(has_permission(request.user, p) for p in permissions):
                    raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.tagscope_permissions = permissions  # type: ignore[attr-defined]
        return wrapper

    return decorator
