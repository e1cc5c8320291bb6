from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dashboard import roles as rules


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "is_admin": rules.is_admin(user),
        "can": {p: rules.has_permission(user, p) for p in rules.ALL_PERMISSIONS},
    }
