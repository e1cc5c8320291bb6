"""Per-request / per-run context carried into every log line (request id, run id)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
run_id: contextvars.ContextVar[str] = contextvars.ContextVar("run_id", default="-")


@contextlib.contextmanager
def bound(var: contextvars.ContextVar[str], value: str) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)
