"""A secret shown once, on the page after the POST that made it (post/redirect/get), such as a webhook
destination's new signing secret.

It waits in the session only between that POST and the next page that may show it: encrypted (sessions
are signed, not encrypted, and sit in the database or the cache), for at most `SECRET_ONCE_TTL`, and it is
removed by the first such page whether or not that page shows it. The page is sent with Django's `never_cache`
(`Cache-Control: no-store`, ...) so no cache keeps it either.
"""

from __future__ import annotations

import time

from django.http import HttpRequest

from integrations import crypto

SESSION_KEY = "secret_once"
SECRET_ONCE_TTL = 300  # seconds: the redirect right after the POST takes well under a second


def secret_once_keep(request: HttpRequest, *, purpose: str, pk: int, secret: str) -> None:
    request.session[SESSION_KEY] = {"purpose": purpose, "pk": pk, "at": time.time(),
                                    "secret": crypto.encrypt(secret)}


def secret_once_take(request: HttpRequest, *, purpose: str, pk: int) -> str | None:
    held = request.session.pop(SESSION_KEY, None)
    if not held or held.get("purpose") != purpose or held.get("pk") != pk:
        return None
    if time.time() - held.get("at", 0) > SECRET_ONCE_TTL:
        return None
    return crypto.decrypt(held["secret"], what="a secret waiting to be shown once")
