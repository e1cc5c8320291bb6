"""Personal API tokens: made, checked and revoked here; stored as SHA-256 digests only."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from dashboard.models import ApiToken
from integrations.db import last_used_touch

TOKEN_PREFIX = "tsk_"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name.strip()[:100] or "API token", prefix=raw[:10],
                                    digest=_digest(raw))
    return token, raw


def api_token_user(raw: str):
    """The active user a token belongs to, or None for an unknown, revoked or inactive one."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    last_used_touch(token, now=now)
    return token.user


def api_token_revoke(*, user, token_id: int) -> bool:
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )
