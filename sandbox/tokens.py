"""Grants the sandbox has handed out: authorization codes, access/location/private tokens, refresh tokens.
Times are sandbox-clock datetimes. Callers hold the sandbox lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .ids import opaque

ACCESS_TTL = 86399
CODE_TTL = timedelta(minutes=10)
REFRESH_TTL = timedelta(days=365)
ALL_SCOPES = frozenset({
    "socialplanner/tag.readonly", "socialplanner/tag.write", "socialplanner/account.readonly",
    "socialplanner/account.write", "socialplanner/statistics.readonly", "socialplanner/post.readonly",
    "socialplanner/post.write", "oauth.readonly", "oauth.write", "locations.readonly",
})


@dataclass
class Grant:
    token: str
    kind: str  # "oauth" | "location" | "pit"
    user_type: str  # "Location" | "Company"
    company_id: str
    location_id: str | None
    scopes: frozenset[str]
    app_id: str
    user_id: str
    expires_at: datetime | None
    revoked: bool = False

    @property
    def resource(self) -> str:
        return self.location_id or self.company_id

    def valid(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass
class RefreshGrant:
    token: str
    user_type: str
    company_id: str
    location_id: str | None
    scopes: frozenset[str]
    app_id: str
    user_id: str
    expires_at: datetime
    used: bool = False
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    user_type: str
    company_id: str
    location_id: str | None
    scopes: frozenset[str]
    redirect_uri: str
    user_id: str
    issued_at: datetime
    used: bool = False


@dataclass
class TokenStore:
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)

    def add_code(self, now: datetime, **fields) -> AuthCode:
        code = AuthCode(code=opaque("sbxcode_"), issued_at=now, **fields)
        self.codes[code.code] = code
        return code

    def issue_pair(self, now: datetime, *, user_type: str, company_id: str, location_id: str | None,
                   scopes: frozenset[str], app_id: str, user_id: str) -> tuple[Grant, RefreshGrant]:
        common = {"user_type": user_type, "company_id": company_id, "location_id": location_id,
                  "scopes": scopes, "app_id": app_id, "user_id": user_id}
        grant = Grant(token=opaque("sbxat_"), kind="oauth", expires_at=now + timedelta(seconds=ACCESS_TTL), **common)
        refresh = RefreshGrant(token=opaque("sbxrt_"), expires_at=now + REFRESH_TTL, **common)
        self.grants[grant.token] = grant
        self.refresh[refresh.token] = refresh
        return grant, refresh

    def issue_location_token(self, now: datetime, agency: Grant, location_id: str) -> Grant:
        grant = Grant(token=opaque("sbxlt_"), kind="location", user_type="Location", company_id=agency.company_id,
                      location_id=location_id, scopes=agency.scopes, app_id=agency.app_id, user_id=agency.user_id,
                      expires_at=now + timedelta(seconds=ACCESS_TTL))
        self.grants[grant.token] = grant
        return grant

    def add_pit(self, token: str, *, company_id: str, location_id: str | None, user_id: str) -> Grant:
        grant = Grant(token=token, kind="pit", user_type="Location" if location_id else "Company",
                      company_id=company_id, location_id=location_id, scopes=ALL_SCOPES,
                      app_id=token, user_id=user_id, expires_at=None)
        self.grants[token] = grant
        return grant

    def select(self, selector: dict) -> tuple[list[Grant], list[RefreshGrant]]:
        """Grants matching {"token"} | {"location_id"} | {"company_id"} | {"all": true}; a company matches
        its own tokens and those of its locations."""
        if selector.get("all"):
            return list(self.grants.values()), list(self.refresh.values())
        if selector.get("token"):
            token = selector["token"]
            return ([self.grants[token]] if token in self.grants else [],
                    [self.refresh[token]] if token in self.refresh else [])
        if selector.get("location_id"):
            loc = selector["location_id"]
            return ([g for g in self.grants.values() if g.location_id == loc],
                    [r for r in self.refresh.values() if r.location_id == loc])
        if selector.get("company_id"):
            company = selector["company_id"]
            return ([g for g in self.grants.values() if g.company_id == company],
                    [r for r in self.refresh.values() if r.company_id == company])
        raise ValueError("give token, location_id, company_id or all")

    def expire(self, now: datetime, selector: dict) -> int:
        """Access and location tokens run out now; private tokens never expire, refresh tokens keep working."""
        grants, _ = self.select(selector)
        hit = [g for g in grants if g.expires_at is not None and g.valid(now)]
        for grant in hit:
            grant.expires_at = now - timedelta(seconds=1)
        return len(hit)

    def revoke(self, selector: dict) -> int:
        grants, refresh = self.select(selector)
        for grant in grants:
            grant.revoked = True
        for item in refresh:
            item.revoked = True
        return len(grants) + len(refresh)
