"""What an admin's action on a connection raises, and the plain words for a HighLevel failure."""

from __future__ import annotations

from integrations.highlevel.errors import (
    AuthenticationError,
    HighLevelError,
    InvalidGrant,
    ScopeError,
    TransportError,
)


class ConnectionActionError(Exception):
    """An admin action failed; the message says why in plain words."""


def explain(exc: Exception) -> str:
    """What went wrong, in words fit for an admin (never a token)."""
    if isinstance(exc, InvalidGrant):
        return "HighLevel refused the authorization (the code or token was already used, expired or revoked)."
    if isinstance(exc, AuthenticationError):
        return "HighLevel rejected the token (invalid, expired or revoked)."
    if isinstance(exc, ScopeError):
        return "The token lacks a scope Tagscope needs."
    if isinstance(exc, TransportError):
        return "HighLevel could not be reached (timeout or connection error). Try again in a moment."
    if isinstance(exc, HighLevelError):
        return f"HighLevel answered with an error: {exc.message or type(exc).__name__}."
    return str(exc)
