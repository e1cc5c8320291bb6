"""The sandbox's knobs: one frozen dataclass, overridable field by field on reset."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 1
    agencies: int = 1
    locations: int = 4
    tags: int = 300
    days: int = 120
    accounts_per_location: tuple[int, int] = (3, 6)
    client_id: str = "tagscope-sandbox"
    client_secret: str = "sandbox-secret"
    burst_limit: int = 100
    burst_window_ms: int = 10_000
    daily_limit: int = 200_000
    # ISO instant the sandbox clock starts at; None means the real time at reset. Data is laid out
    # relative to that day, so the same seed gives the same numbers whatever the date.
    now: str | None = None
    # Put before every generated name (agencies, locations and so their accounts, tags, groups, post texts):
    # tests plant hostile markup this way and check that Tagscope shows it only escaped.
    name_prefix: str = ""

    @property
    def app_id(self) -> str:
        return self.client_id.split("-", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["accounts_per_location"] = list(self.accounts_per_location)
        return data

    def with_overrides(self, overrides: dict[str, Any] | None) -> SandboxConfig:
        """A copy with the given fields changed; unknown names or wrong types raise ValueError."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise ValueError(f"unknown config field: {name}")
            if name == "accounts_per_location":
                low, high = (int(v) for v in value)
                if not 1 <= low <= high:
                    raise ValueError("accounts_per_location must be [low, high] with 1 <= low <= high")
                value = (low, high)
            elif name in ("client_id", "client_secret", "name_prefix"):
                value = str(value)
            elif name == "now":
                value = None if value is None else str(value)
            else:
                value = int(value)
                if value < (0 if name in ("seed", "tags", "days") else 1):
                    raise ValueError(f"{name} is out of range")
            changes[name] = value
        return replace(self, **changes)
