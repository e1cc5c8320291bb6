"""The sandbox's mutable world: config, clock, generated data, installs, grants, limits, faults and
counters, behind one lock. Nothing here touches Django."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from . import data, posts
from .config import SandboxConfig
from .faults import Faults
from .ids import pit_token
from .ratelimit import RateLimiter
from .tokens import TokenStore


class Clock:
    """Sandbox time: ticks with real time from a settable, advanceable starting point, or holds still while
    frozen (posts' insights grow with sandbox time, so a "nothing changed" run needs time to stand still)."""

    def __init__(self, start: datetime, ticker: Callable[[], float] = time.monotonic):
        self._ticker, self.frozen = ticker, False
        self.set(start)

    def set(self, moment: datetime) -> None:
        self._base, self._t0 = moment, self._ticker()

    def advance(self, seconds: float) -> None:
        self._base += timedelta(seconds=seconds)

    def freeze(self, frozen: bool) -> None:
        """Stop time at this moment (True) or let it tick on from where it stands (False)."""
        self.set(self.now())
        self.frozen = frozen

    def now(self) -> datetime:
        if self.frozen:
            return self._base
        return self._base + timedelta(seconds=self._ticker() - self._t0)


def parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class LocationData:
    tags: dict[str, dict]
    accounts: list[dict]
    groups: list[dict]
    users: dict[str, dict]
    initial_tag_ids: list[str]
    posts: list[dict] | None = None


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None):
        self.base_config = config or SandboxConfig()
        self.lock = threading.RLock()
        self.reset()

    # --- lifecycle ----------------------------------------------------------------------------------
    def reset(self, overrides: dict | None = None) -> None:
        config = self.base_config.with_overrides(overrides)
        start = parse_iso(config.now) if config.now else datetime.now(UTC)  # a bad "now" fails before any change
        with self.lock:
            self.config = config
            self.clock = Clock(start)
            # Data hangs off the start day's midnight (UTC), so a seed gives the same world all day long.
            self.anchor = start.replace(hour=0, minute=0, second=0, microsecond=0)
            self.anchor_day: date = start.date()
            self.skeleton = data.make_skeleton(config)
            self._locations: dict[str, LocationData] = {}
            self.tokens = TokenStore()
            self.pits: dict[str, str] = {}
            for agency in self.skeleton.agencies.values():
                self.pits[agency.id] = self.tokens.add_pit(
                    pit_token(config.seed, agency.id), company_id=agency.id, location_id=None,
                    user_id=agency.user_id).token
            installed_at = data.iso(self.anchor - timedelta(days=30))
            self.installed: dict[str, str | None] = {}
            for location in self.skeleton.locations.values():
                self.pits[location.id] = self.tokens.add_pit(
                    pit_token(config.seed, location.id), company_id=location.company_id,
                    location_id=location.id, user_id=location.user_ids[0]).token
                self.installed[location.id] = installed_at
            self.company_installed = dict.fromkeys(self.skeleton.agencies, installed_at)
            self.faults = Faults(config.seed)
            self.refuse_v3 = False  # a HighLevel that does not serve Version v3 (versions.py)
            # Planted faults (control.py): metric drops per location, scheduled posts taken off per location.
            self.drops: dict[str, list[dict]] = {}
            self.unscheduled: dict[str, list[dict]] = {}
            self.limiter = RateLimiter(config.burst_limit, config.burst_window_ms, config.daily_limit)
            self.reset_stats()

    def reset_stats(self) -> None:
        """Zero the counters; the rate-limit windows and quotas carry on."""
        with self.lock:
            self.limiter.resources.clear()
            self.requests: Counter[str] = Counter()
            self.counters: Counter[str] = Counter()
            self.grant_counts: Counter[str] = Counter()

    # --- data ---------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def today_index(self) -> int:
        return (self.now().date() - self.anchor_day).days

    def location(self, location_id: str) -> LocationData | None:
        """A location's generated data, made on first use."""
        with self.lock:
            if location_id in self._locations:
                return self._locations[location_id]
            location = self.skeleton.locations.get(location_id)
            if location is None:
                return None
            tags = data.make_tags(self.config, location, self.anchor)
            accounts, groups = data.make_accounts(self.config, location, self.anchor)
            made = LocationData(
                tags=tags, accounts=accounts, groups=groups, users=data.make_users(self.config, location),
                initial_tag_ids=[t["_id"] for t in tags.values() if not t["deleted"]],
            )
            self._locations[location_id] = made
            return made

    def posts(self, location_id: str) -> list[dict]:
        with self.lock:
            made = self.location(location_id)
            if made.posts is None:
                made.posts = posts.make_posts(self.config, self.skeleton.locations[location_id], made.accounts,
                                             made.initial_tag_ids, self.anchor_day, made.tags)
            return made.posts

    def company_of(self, resource_id: str) -> str | None:
        if resource_id in self.skeleton.agencies:
            return resource_id
        location = self.skeleton.locations.get(resource_id)
        return location.company_id if location else None

    # --- installs -----------------------------------------------------------------------------------
    def install(self, resource_id: str) -> list[str]:
        """Install the app on a location, or on an agency and all its locations; answers the location ids."""
        with self.lock:
            now = data.iso(self.now())
            if resource_id in self.skeleton.agencies:
                self.company_installed[resource_id] = self.company_installed[resource_id] or now
                ids = self.skeleton.agencies[resource_id].location_ids
            elif resource_id in self.skeleton.locations:
                ids = [resource_id]
            else:
                raise KeyError(resource_id)
            for location_id in ids:
                self.installed[location_id] = self.installed[location_id] or now
            return list(ids)

    def uninstall(self, resource_id: str) -> list[str]:
        """Uninstalling also invalidates the app's OAuth and location tokens there (not private tokens)."""
        with self.lock:
            if resource_id in self.skeleton.agencies:
                self.company_installed[resource_id] = None
                ids = list(self.skeleton.agencies[resource_id].location_ids)
            elif resource_id in self.skeleton.locations:
                ids = [resource_id]
            else:
                raise KeyError(resource_id)
            for location_id in ids:
                self.installed[location_id] = None
            for grant in self.tokens.grants.values():
                if grant.kind != "pit" and (grant.location_id in ids or grant.resource == resource_id):
                    grant.revoked = True
            for refresh in self.tokens.refresh.values():
                if refresh.location_id in ids or (refresh.location_id or refresh.company_id) == resource_id:
                    refresh.revoked = True
            return ids
