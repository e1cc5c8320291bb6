"""The small typed readers every HighLevel parser is built from: each raises BadResponse, never
KeyError/TypeError/ValueError, naming the field that is not the documented shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from integrations.highlevel.errors import BadResponse

T = TypeVar("T")


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadResponse(f"{what} is not a list")
    return value


def _str(item: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = item.get(key)
    if type(value) is str and value:  # the usual case, checked first (a tag holds four)
        return value
    if value is None:
        if required:
            raise BadResponse(f"missing {key!r}")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadResponse(f"{key!r} is not a string")
    if required and not value:
        raise BadResponse(f"empty {key!r}")
    return value


def _bool(item: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = item.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadResponse(f"{key!r} is not a boolean")
    return value


def _int(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadResponse(f"{key!r} is not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadResponse(f"{key!r} is not a number") from None


def _number(value: Any, what: str) -> float | int | None:
    if value is None or type(value) is int or type(value) is float:  # the usual cases, checked first
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # Some HighLevel numbers arrive as numeric strings; anything else is a broken body.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise BadResponse(f"{what} is not a number")
    return value


_PLAIN_NUMBERS = frozenset({int, float, type(None)})


def _series(value: Any, what: str) -> tuple[float | int | None, ...]:
    values = _list(value, what)
    if set(map(type, values)) <= _PLAIN_NUMBERS:  # the usual series, checked in C: `_number` per value changes none
        return tuple(values)
    return tuple(_number(v, what) for v in values)


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = _list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise BadResponse(f"{what} holds a non-string")
    return tuple(items)


def parse_datetime(value: Any, what: str = "date") -> datetime | None:
    """ISO 8601 (`2024-03-21T09:00:00.000Z`) or epoch milliseconds -> an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, str):  # the usual case (two per tag), checked first
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000.0, tz=UTC)
        except (ValueError, OverflowError, OSError):
            pass
    raise BadResponse(f"{what} is not a date: {str(value)[:40]!r}")


def _results(body: Any) -> dict[str, Any]:
    return _obj(_obj(body, "body").get("results"), "results")


def _items(raw_items: list[Any], parse: Callable[[Any], T], what: str) -> tuple[list[T], list[str]]:
    parsed: list[T] = []
    problems: list[str] = []
    for index, item in enumerate(raw_items):
        try:
            parsed.append(parse(item))
        except BadResponse as exc:
            ident = item.get("_id") or item.get("id") if isinstance(item, dict) else None
            problems.append(f"{what}[{index}]{f' ({ident})' if ident else ''}: {exc.message}")
    return parsed, problems


def _identified(item: Any, what: str, keys: tuple[str, str] = ("_id", "id")) -> tuple[dict[str, Any], str]:
    """An item of a listing and its id, under either key (HighLevel's objects use `_id` or `id`)."""
    item = _obj(item, what)
    ident = _str(item, keys[0]) or _str(item, keys[1])
    if not ident:
        raise BadResponse(f"{what} without '{keys[0]}'")
    return item, ident
