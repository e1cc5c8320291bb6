"""Strict parsing of environment variables: a typo fails loudly instead of silently meaning "off"."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, *, default: str) -> str:
    """The variable as set (surrounding white space dropped), or the default when unset or blank."""
    raw = os.environ.get(name, "").strip()
    return raw or default


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _number(name: str, default: T, cast: Callable[[str], T], what: str) -> T:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, not {raw!r}.") from None


def env_int(name: str, *, default: int, minimum: int | None = None) -> int:
    value = _number(name, default, int, "a whole number")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_float(name: str, *, default: float) -> float:
    return _number(name, default, float, "a number")


def env_csv(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
