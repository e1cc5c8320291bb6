"""Personal API tokens: made, checked and revoked here; stored as SHA-256 digests only.

A token lives `DEFAULT_DAYS` unless another lifetime (1 to `MAX_DAYS` days) is chosen when it is issued; when
settings.MFA_REQUIRED is on, a token works only while its user has two-factor authentication set up, as the
pages demand of a session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from dashboard.models import ApiToken
from integrations.db import last_used_touch

TOKEN_PREFIX = "tsk_"
DEFAULT_DAYS = 90
MAX_DAYS = 365


class TokenRefused(Exception):
    """Why a presented token does not authenticate: `status` and `code` for the API's JSON error."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def mfa_missing(user) -> bool:
    """MFA is required here and this user has not set it up."""
    if not settings.MFA_REQUIRED:
        return False
    from allauth.mfa.utils import is_mfa_enabled

    return not is_mfa_enabled(user)


def api_token_issue(*, user, name: str, days: int = DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """A new token for `user`, valid for `days`; returns the row and the token itself, which is never stored."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"A token lives 1 to {MAX_DAYS} days.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name.strip()[:100] or "API token", prefix=raw[:10],
                                    digest=_digest(raw), expires_at=timezone.now() + timedelta(days=days))
    return token, raw


def api_token_user(raw: str):
    """The active user a token belongs to, or None for an unknown, revoked or inactive one; TokenRefused for
    an expired one, or one whose user lacks the MFA this installation requires."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenRefused(401, "token_expired", f"The API token expired on {token.expires_at:%Y-%m-%d}; "
                                                 "create a new one on your profile.")
    if mfa_missing(token.user):
        raise TokenRefused(403, "mfa_required", "Set up two-factor authentication first: it is required here, "
                                                "for API tokens too.")
    last_used_touch(token, now=now)  # at most one write a minute per token
    return token.user


def api_token_revoke(*, user, token_id: int) -> bool:
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )
