"""Fault injection. Rules are set per run through the control API; each matching request draws from the
faults' own seeded Random in a fixed order, so a sequential run is reproducible."""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field

ERROR_STATUSES = (500, 502, 503)


@dataclass
class FaultRule:
    id: int = 0
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    error_burst: int = 0
    rate_limit_storm: int = 0
    timeout_rate: float = 0.0
    timeout_burst: int = 0
    hang_seconds: float = 3.0
    malformed_rate: float = 0.0
    truncated_rate: float = 0.0
    locations: list[str] | None = None
    path: str | None = None
    _pattern: re.Pattern | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, data: dict, rule_id: int) -> FaultRule:
        known = {k for k in cls.__dataclass_fields__ if not k.startswith("_") and k != "id"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        rule = cls(id=rule_id, **data)
        for name in ("error_rate", "timeout_rate", "malformed_rate", "truncated_rate"):
            value = float(getattr(rule, name))
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
            setattr(rule, name, value)
        if int(rule.error_status) not in ERROR_STATUSES:
            raise ValueError("error_status must be 500, 502 or 503")
        for name in ("latency_ms", "jitter_ms", "error_burst", "rate_limit_storm", "timeout_burst", "error_status"):
            setattr(rule, name, max(0, int(getattr(rule, name))))
        rule.hang_seconds = max(0.0, float(rule.hang_seconds))
        rule._pattern = re.compile(rule.path) if rule.path else None
        return rule

    def matches(self, path: str, location_id: str | None) -> bool:
        if self.locations is not None and location_id not in self.locations:
            return False
        return self._pattern is None or bool(self._pattern.search(path))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("_pattern")
        return data


@dataclass
class Outcome:
    delay: float = 0.0
    kind: str | None = None  # "error" | "rate_limit" | "timeout" | "malformed" | "truncated"
    status: int = 200
    hang: float = 0.0
    variant: int = 0


class Faults:
    def __init__(self, seed: int):
        self.rules: list[FaultRule] = []
        self._next_id = 1
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.rng = random.Random(f"faults:{seed}")

    def add(self, data: dict) -> FaultRule:
        data = dict(data)
        if "seed" in data:
            self.reseed(int(data.pop("seed")))
        rule = FaultRule.from_dict(data, self._next_id)
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def decide(self, path: str, location_id: str | None) -> Outcome:
        """What happens to one request; the caller holds the sandbox lock. Latency adds up over matching
        rules; the first failure decided wins. Bursts are spent before rates are drawn."""
        outcome = Outcome()
        for rule in self.rules:
            if not rule.matches(path, location_id):
                continue
            if rule.latency_ms or rule.jitter_ms:
                outcome.delay += (rule.latency_ms + self.rng.uniform(0, rule.jitter_ms)) / 1000
            if outcome.kind:
                continue
            if rule.error_burst:
                rule.error_burst -= 1
                outcome.kind, outcome.status = "error", rule.error_status
            elif rule.rate_limit_storm:
                rule.rate_limit_storm -= 1
                outcome.kind, outcome.status = "rate_limit", 429
            elif rule.timeout_burst:
                rule.timeout_burst -= 1
                outcome.kind, outcome.hang = "timeout", rule.hang_seconds
            else:
                self._draw(rule, outcome)
        return outcome

    def _draw(self, rule: FaultRule, outcome: Outcome) -> None:
        draws = [self.rng.random() for _ in range(4)]
        if draws[0] < rule.error_rate:
            outcome.kind, outcome.status = "error", rule.error_status
        elif draws[1] < rule.timeout_rate:
            outcome.kind, outcome.hang = "timeout", rule.hang_seconds
        elif draws[2] < rule.malformed_rate:
            outcome.kind, outcome.variant = "malformed", self.rng.randrange(3)
        elif draws[3] < rule.truncated_rate:
            outcome.kind = "truncated"


MALFORMED_BODIES = (b"[]", b'{"results":null}', b'{"success":true,"results":{"items":"unexpected"}}')
