"""What a connection can and cannot do given the scopes HighLevel granted it."""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.highlevel import oauth


@dataclass(frozen=True)
class ScopeReport:
    missing: dict[str, str] = field(default_factory=dict)  # scope -> what will not work
    excessive: tuple[str, ...] = ()  # write scopes granted beyond need

    @property
    def limited(self) -> bool:
        return bool(self.missing)

    def explanations(self) -> list[str]:
        return [f"Missing {scope}: {effect}." for scope, effect in self.missing.items()]

    def warnings(self) -> list[str]:
        if not self.excessive:
            return []
        return [
            "HighLevel granted write access Tagscope never uses ("
            + ", ".join(self.excessive)
            + "). For least privilege, remove these scopes from the app and reconnect."
        ]


def scope_report(*, granted: set[str], user_type: str) -> ScopeReport:
    required = oauth.required_scopes(user_type)
    missing = {scope: effect for scope, effect in required.items() if scope not in granted}
    excessive = tuple(
        sorted(s for s in granted if (s.endswith(".write") or "/write" in s) and s not in oauth.NEEDED_WRITE_SCOPES)
    )
    return ScopeReport(missing=missing, excessive=excessive)
