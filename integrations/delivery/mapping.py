"""The declarative field mapping: which fields go out, under what names, with which safe transforms.

A mapping is a list of rows, each a dict:
    {"target": "tag.name", "source": "payload.name", "transform": "lower", "arg": "", "default": "n/a"}
    {"target": "origin", "constant": "tagscope"}
`source` is a dotted path into the source document (`source_document()`; numeric parts index lists),
`constant` a fixed value (give one or the other). `target` may be dotted to nest objects. Transforms:
lower, upper, date (arg: a strftime format), join (arg: the separator). `default` replaces a missing or
empty value. Nothing here evaluates code: rows are data, checked by `mapping_validate()`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

TRANSFORMS = {"": "none", "lower": "lower", "upper": "upper", "date": "date", "join": "join"}
MAX_ROWS = 50
MAX_TEXT = 200
_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_TARGET = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
_DATE_DIRECTIVE = re.compile(r"%(.)")
_DATE_DIRECTIVES = set("YymdHIMSfpzZjbBaAGVu%")


# --- Source documents -------------------------------------------------------------------------------------------
def source_document(event: Any) -> dict[str, Any]:
    """What a mapping reads from: the event's own fields plus its payload."""
    location = getattr(event, "location", None)
    return {
        "event_id": event.pk,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        "location_id": location.location_id if location else None,
        "location_name": location.name if location else None,
        "subject_id": event.subject_id or None,
        "payload": event.payload or {},
    }


# Shaped like the payloads integrations/sync/ writes, so a preview made before any real event matches.
_SAMPLE_TAG = {"location_id": "sampleLocation01", "tag_id": "6655aa11bb22cc33dd44ee55", "name": "VIP Customer"}
_SAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "tag.created": _SAMPLE_TAG,
    "tag.updated": {**_SAMPLE_TAG, "changed": ["name"], "previous_name": "vip customer"},
    "tag.removed": {**_SAMPLE_TAG, "deleted": True, "removed_at": "2025-02-01T08:00:00+00:00"},
    "tag_details.updated": _SAMPLE_TAG,
    "statistics.updated": {"from": "2025-01-01", "to": "2025-01-31", "metrics": ["impressions", "reach"],
                           "points": 62},
    "sync.failed": {"run_id": 42, "kind": "tags", "error": "HighLevel answered 503"},
    "connection.needs_reconnect": {"connection_id": 1, "name": "Sample agency", "reason": "refresh token revoked"},
    "destination.paused": {"destination_id": 1, "name": "Sample destination", "reason": "kept failing"},
}


def sample_source(event_type: str) -> dict[str, Any]:
    """A made-up event of this type, for previews and test sends when no real one exists yet."""
    return {
        "event_id": 0, "type": event_type, "occurred_at": "2025-01-16T10:00:00+00:00",
        "location_id": "sampleLocation01", "location_name": "Sample location", "subject_id": _SAMPLE_TAG["tag_id"],
        "payload": dict(_SAMPLE_PAYLOADS.get(event_type, {})),
    }


# --- Values --------------------------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A constant or default typed in a form: JSON when it parses (42, true, "x", [1]), else the text."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _lookup(document: Any, path: str) -> Any:
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # HighLevel often sends epoch milliseconds
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _transform(value: Any, transform: str, arg: str) -> Any:
    if value is None or not transform:
        return value
    if transform in ("lower", "upper"):
        if isinstance(value, list):
            return [getattr(str(v), transform)() for v in value]
        return getattr(str(value), transform)()
    if transform == "date":
        moment = _as_datetime(value)
        return moment.strftime(arg or "%Y-%m-%d") if moment else None
    if transform == "join":
        items = value if isinstance(value, list) else [value]
        return (arg if arg else ", ").join("" if v is None else str(v) for v in items)
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _put(target: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def mapping_apply(rows: list[dict[str, Any]], source: dict[str, Any]) -> dict[str, Any]:
    """The outgoing `data` object. No rows: the whole source document goes out."""
    if not rows:
        return source
    data: dict[str, Any] = {}
    for row in rows:
        if row.get("constant") is not None:
            value = row["constant"]
        else:
            value = _transform(_lookup(source, row.get("source", "")), row.get("transform", ""), row.get("arg", ""))
        if _empty(value) and row.get("default") is not None:
            value = row["default"]
        _put(data, row["target"], value)
    return data


def envelope(*, event_type: str, occurred_at: str | None, data: dict[str, Any], test: bool = False) -> dict:
    """The document sent: the Standard Webhooks shape (`type`, `timestamp`, `data`) plus `test`."""
    return {"type": event_type, "timestamp": occurred_at, "test": test, "data": data}


def message_body(*, event_type: str, occurred_at: str | None, data: dict[str, Any], test: bool = False) -> bytes:
    document = envelope(event_type=event_type, occurred_at=occurred_at, data=data, test=test)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()


# --- Validation ----------------------------------------------------------------------------------------------
def _row_errors(row: dict[str, Any]) -> list[str]:
    errors = []
    target, source = row.get("target") or "", row.get("source") or ""
    transform, arg = row.get("transform") or "", row.get("arg") or ""
    has_constant = row.get("constant") is not None
    if not target:
        errors.append("give the output name")
    elif len(target) > MAX_TEXT or not _TARGET.match(target):
        errors.append(f"“{target[:40]}” is not a valid output name (letters, digits, _ and -, dots to nest)")
    if has_constant and source:
        errors.append("give a source path or a constant, not both")
    elif not has_constant and not source:
        errors.append("give a source path (e.g. payload.name) or a constant")
    elif source and (len(source) > MAX_TEXT or not _PATH.match(source)):
        errors.append(f"“{source[:40]}” is not a valid source path (dotted names, e.g. payload.name)")
    if transform not in TRANSFORMS:
        errors.append(f"unknown transform “{transform[:20]}” (choose {', '.join(t for t in TRANSFORMS if t)})")
    elif has_constant and transform:
        errors.append("a constant is sent as it is: remove the transform")
    elif transform == "date" and arg:
        bad = sorted({d for d in _DATE_DIRECTIVE.findall(arg) if d not in _DATE_DIRECTIVES})
        if bad or "%" in _DATE_DIRECTIVE.sub("", arg):
            errors.append(f"“{arg[:40]}” is not a date format (use %Y, %m, %d, %H, %M, %S, ...)")
    elif transform in ("lower", "upper") and arg:
        errors.append(f"the {transform} transform takes no argument")
    if len(arg) > MAX_TEXT:
        errors.append("the argument is too long")
    return errors


def mapping_validate(rows: Any) -> list[str]:
    """Every problem with a mapping, as sentences an admin can act on; empty when it is fine."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return ["A mapping is a list of rows."]
    if len(rows) > MAX_ROWS:
        return [f"A mapping has at most {MAX_ROWS} rows."]
    errors = [f"Row {n}: {e}." for n, row in enumerate(rows, 1) for e in _row_errors(row)]
    targets = [r.get("target") for r in rows if r.get("target")]
    for n, target in enumerate(targets):
        if target in targets[:n]:
            errors.append(f"The output name “{target}” is used twice.")
        elif any(other.startswith(target + ".") or target.startswith(other + ".") for other in targets[:n]):
            errors.append(f"The output name “{target}” clashes with a nested name that shares its start.")
    return errors
