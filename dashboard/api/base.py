"""The JSON API's plumbing: authentication (session or personal token), JSON errors, pagination.

Same permissions as the pages: `api_view(BROWSE)` is to the API what `@requires(BROWSE)` is to a page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from dashboard import roles
from dashboard.api_tokens import TokenRefused, api_token_user
from dashboard.params import BadParameter, Params

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _authenticate(request: HttpRequest) -> tuple[Any, bool]:
    """(user, via_token). A Bearer header wins over the session."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise ApiError(401, "unauthenticated", "Use 'Authorization: Bearer <token>'.")
        try:
            user = api_token_user(raw.strip())
        except TokenRefused as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        if user is None:
            raise ApiError(401, "unauthenticated", "The API token is unknown or revoked.")
        return user, True
    if request.user.is_authenticated:
        return request.user, False
    raise ApiError(401, "unauthenticated", "Sign in, or send a personal API token as a Bearer token.")


def _csrf_ok(request: HttpRequest) -> bool:
    def nothing(_request):
        return None

    return CsrfViewMiddleware(nothing).process_view(request, None, (), {}) is None


def api_view(*permissions: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Authenticate, check permissions and method, and turn ApiError / 404 / 403 into JSON errors."""

    def decorator(view: Callable[..., Any]) -> Callable[..., JsonResponse]:
        @csrf_exempt  # token requests carry no CSRF token; session requests are checked below
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                if request.method not in methods:
                    raise ApiError(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
                user, via_token = _authenticate(request)
                if not via_token and request.method not in ("GET", "HEAD") and not _csrf_ok(request):
                    raise ApiError(403, "csrf_failed", "CSRF check failed for a session request.")
                request.user = user
                if not all(roles.has_permission(user, p) for p in permissions):
                    raise ApiError(403, "forbidden", "Your role does not allow this.")
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return json_error(exc.status, exc.code, exc.message)
            except BadParameter as exc:
                return json_error(400, "bad_request", exc.message)
            except Http404 as exc:
                return json_error(404, "not_found", str(exc) or "Not found.")
            except PermissionDenied:
                return json_error(403, "forbidden", "Your role does not allow this.")

        wrapper.tagscope_permissions = permissions or (roles.BROWSE,)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def api_params(request: HttpRequest) -> Params:
    """The request's query, read strictly: a bad value is a 400 (see dashboard/params.py)."""
    return Params(request.GET, strict=True)


def page_params(request: HttpRequest) -> tuple[int, int]:
    params = api_params(request)
    return params.page(), params.integer("page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)


def paginated(request: HttpRequest, queryset, serialize: Callable[[Any], dict], *, count: int | None = None) -> dict:
    """The API's list shape: count, next, previous, results."""
    page, size = page_params(request)
    total = queryset.count() if count is None else count
    rows = [serialize(row) for row in queryset[(page - 1) * size: page * size]]

    def link(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return {
        "count": total,
        "next": link(page + 1) if page * size < total else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": rows,
    }

