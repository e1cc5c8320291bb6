"""Standard Webhooks signing (https://www.standardwebhooks.com/).

A secret is `whsec_` + base64 of random bytes; the decoded bytes are the HMAC-SHA256 key. A message is
signed over `"{webhook-id}.{webhook-timestamp}.{body}"` and sent as `webhook-signature: v1,<base64>`;
during a rotation overlap, the signatures of both secrets are sent space-separated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"
SECRET_BYTES = 24
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class InvalidSecret(ValueError):
    """Not a `whsec_<base64>` secret."""


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise InvalidSecret("a signing secret is 'whsec_' followed by base64") from None
    if not key:
        raise InvalidSecret("a signing secret cannot be empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(signing_secrets: Iterable[str], msg_id: str, body: bytes, *, timestamp: int | None = None) -> dict:
    """The three `webhook-*` headers, one signature per secret (current first)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(sign(s, msg_id, ts, body) for s in signing_secrets),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when one of the `v1` signatures matches and the timestamp is within the tolerance."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sig_header = (lowered.get(f"webhook-{k}", "") for k in ("id", "timestamp", "signature"))
    if not (msg_id and ts.isdigit() and sig_header):
        return False
    if abs((time.time() if now is None else now) - int(ts)) > tolerance:
        return False
    expected = sign(secret, msg_id, int(ts), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in sig_header.split())
