"""Masks secrets in free text before it reaches a log line, an error message or a page.

Patterns cover the token shapes Tagscope handles: JWT-like bearer tokens (HighLevel access and
refresh tokens), Private Integration tokens (`pit-...`), personal API tokens (`tsk_...`), Fernet
ciphertexts, OAuth codes in URLs and form bodies, passwords in URLs (`scheme://user:pass@host`), and
any value that follows a `token`/`secret`/`password`/`authorization` key, quoted either way.
"""

from __future__ import annotations

import re

MASK = "[redacted]"

_PATTERNS = [
    # key=value, "key": "value" or a Python repr's 'key': 'value', for secret-looking keys; an
    # Authorization value keeps its scheme word (Bearer, Basic, ...) and loses the credentials after it.
    re.compile(
        r"(?i)(?P<key>(?:access_|refresh_|id_)?token|client_secret|secret|password|authorization|api[_-]?key)"
        r"(?P<sep>[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|digest|token)\s+)?)(?P<value>[^\s\"',&}]+)"
    ),
    re.compile(r"(?i)(?P<key>bearer)(?P<sep>\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})"),
    # The OAuth authorization code in a query string or a form body (the callback URL, the token request).
    re.compile(r"(?P<key>(?:^|(?<=[?&]))code)(?P<sep>=)(?P<value>[^&\s\"'#]+)"),
    # A password in a URL's userinfo (redis://user:pass@host, postgres://app:pass@db).
    re.compile(r"(?i)(?P<key>\b[a-z][a-z0-9+.-]*://[^/\s:@]*)(?P<sep>:)(?P<value>[^@\s/]+)(?=@)"),
    re.compile(r"(?P<value>eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"),  # JWT
    re.compile(r"(?P<value>\bpit-[A-Za-z0-9-]{8,})"),  # Private Integration tokens
    re.compile(r"(?P<value>\btsk_[A-Za-z0-9_-]{8,})"),  # Tagscope's personal API tokens
    re.compile(r"(?P<value>\bgAAAAA[A-Za-z0-9_=-]{20,})"),  # Fernet tokens
    re.compile(r"(?P<value>\bsbx(?:at|rt|lt)_[A-Za-z0-9_-]{8,})"),  # sandbox-issued tokens
    re.compile(r"(?P<value>\bwhsec_[A-Za-z0-9+/=]{8,})"),  # webhook signing secrets
]


def _mask(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("key") is not None:
        return f"{groups['key']}{groups['sep']}{MASK}"
    return MASK


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text
