"""One error tree for everything that can go wrong talking to HighLevel.

Every error carries the HTTP status (None when no answer came back), HighLevel's message (a list of
messages is joined), the `traceId` when HighLevel gave one, the endpoint template, and whether the
one retry policy (retry.py) may try again. Messages echoed from a server pass through `redact()`
so a token or secret never reaches a log line, a page or a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from integrations.redact import redact

__all__ = [
    "AuthenticationError",
    "BadResponse",
    "HighLevelError",
    "InvalidGrant",
    "NotConfigured",
    "NotFound",
    "QuotaExhausted",
    "RateLimited",
    "ScopeError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "VersionRefused",
    "error_for_response",
    "header_int",
    "message_text",
]


def message_text(message: Any) -> str:
    """HighLevel sends `message` as a string or a list of strings (422); always answer one string."""
    if message is None:
        return ""
    if isinstance(message, (list, tuple)):
        return "; ".join(str(part) for part in message if part is not None)
    return str(message)


class NotConfigured(Exception):
    """The client was built without what a call needs (the app's client id and secret for OAuth): an
    operator's mistake, not HighLevel's answer, so it is no HighLevelError and nothing retries it."""


class HighLevelError(Exception):
    """Base of every HighLevel failure. `retryable` is what retry.py consults."""

    default_retryable = False

    def __init__(
        self,
        message: Any = "",
        *,
        status: int | None = None,
        trace_id: str | None = None,
        endpoint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.message = redact(message_text(message))
        self.status = status
        self.trace_id = trace_id or None
        self.endpoint = endpoint
        self.retryable = self.default_retryable if retryable is None else retryable
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message or type(self).__name__]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.endpoint:
            parts.append(f"endpoint={self.endpoint}")
        if self.trace_id:
            parts.append(f"traceId={self.trace_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, trace_id={self.trace_id!r})"


class AuthenticationError(HighLevelError):
    """401: the access token is invalid or expired. The client calls `on_unauthorized` once."""


class ScopeError(HighLevelError):
    """403, or a 401 whose message names a scope: the token lacks a scope; refreshing will not help."""


class NotFound(HighLevelError):
    """404."""


class ValidationError(HighLevelError):
    """400 or 422: the request itself is wrong; retrying it unchanged can never succeed."""


class RateLimited(HighLevelError):
    """429, or the shared limiter refusing to wait that long. `wait` is the learned pause in seconds."""

    default_retryable = True

    def __init__(self, message: Any = "", *, wait: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.wait = wait


class QuotaExhausted(RateLimited):
    """The daily quota (200,000 per app and resource) is spent: nothing goes out until `wait` elapses."""

    default_retryable = False


class ServerError(HighLevelError):
    """5xx."""

    default_retryable = True


class TransportError(HighLevelError):
    """No usable HTTP answer: a timeout, a refused or reset connection.

    `connect_failed` is true when the request provably never reached the server (connect failed).
    """

    default_retryable = True

    def __init__(self, message: Any = "", *, connect_failed: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.connect_failed = connect_failed


class BadResponse(HighLevelError):
    """A 2xx whose body is not the documented shape (or not JSON at all, e.g. truncated).

    For listings, `problems` holds one line per malformed item that was skipped, and `partial` what
    could be read (the well-formed items), so a caller may keep them while knowing the answer is unclean.
    """

    def __init__(
        self, message: Any = "", *, problems: Iterable[str] = (), partial: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.problems = [redact(str(p)) for p in problems]
        self.partial = partial


class VersionRefused(ValidationError):
    """A 4xx whose message is about the `Version` header: this HighLevel does not serve the version asked.

    HighLevel's wording for it is *unverified*; any 4xx but 401, 403 and 429 that names "version" counts.
    """


class InvalidGrant(HighLevelError):
    """The token endpoint answered `invalid_grant`: the refresh token or code is spent or revoked.

    The connection needs an admin to reconnect; never retried.
    """


_BY_STATUS: dict[int, type[HighLevelError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ScopeError,
    404: NotFound,
    422: ValidationError,
}


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """A rate-limit header as a whole number; None when absent or garbled."""
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def error_for_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    endpoint: str | None = None,
    trace_id: str | None = None,
    wait: float | None = None,
    token_endpoint: bool = False,
) -> HighLevelError:
    """The error for a non-2xx answer. `headers` must be case-insensitive (requests' are)."""
    message: Any = ""
    error_code = ""
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error_description") or body.get("error") or ""
        error_code = str(body.get("error") or "")
    elif isinstance(body, str):
        message = body[:200]
    text = message_text(message)
    kwargs: dict[str, Any] = {"status": status, "endpoint": endpoint, "trace_id": trace_id}

    if token_endpoint and status in (400, 401) and (
        error_code == "invalid_grant" or "invalid_grant" in text.lower()
    ):
        return InvalidGrant(text or "invalid_grant", **kwargs)
    if status == 429:
        if header_int(headers, "X-RateLimit-Daily-Remaining") == 0:
            return QuotaExhausted(text or "daily quota exhausted", wait=wait, **kwargs)
        return RateLimited(text or "rate limited", wait=wait, **kwargs)
    if status >= 500:
        return ServerError(text or f"server error {status}", **kwargs)
    # HighLevel answers a missing scope with 401 "The token is not authorized for this scope."
    if status in (401, 403) and "scope" in text.lower():
        return ScopeError(text, **kwargs)
    if status not in (401, 403) and "version" in text.lower():
        return VersionRefused(text, **kwargs)
    cls = _BY_STATUS.get(status, HighLevelError)
    return cls(text or f"HTTP {status}", **kwargs)
