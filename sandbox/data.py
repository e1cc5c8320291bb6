"""Seeded generation of the sandbox world. The skeleton (agencies, locations) is made at once; a location's
tags, accounts and posts only when first asked for, each from its own seeded Random, so start-up stays fast
and a location's data does not depend on which other locations were looked at first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import names
from .config import SandboxConfig
from .ids import hl_id, object_id, rng_for, uuid_like

POST_HORIZON_DAYS = 14  # scheduled posts reach this far past the anchor day
RECENT_CLEAN_DAYS = 7  # failed posts happen only before the last week of history (a normal day alarms nothing)


def iso(moment: datetime) -> str:
    """HighLevel's timestamp format: UTC with milliseconds and a Z."""
    if moment.year >= 1000:  # isoformat's fields, a fifth of strftime's CPU (strftime pads no year below 1000)
        return moment.isoformat(timespec="milliseconds")[:23] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Location:
    id: str
    name: str
    company_id: str
    timezone: str
    address: str  # the one-line address ("12 Elm St, Austin, TX 78701") the installed-locations listing shows
    user_ids: list[str]
    # The parts GET /locations/{locationId} answers separately (there `address` is the street line).
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = "US"

    def summary(self) -> dict:
        return {"id": self.id, "name": self.name, "companyId": self.company_id,
                "timezone": self.timezone, "address": self.address}

    def details(self) -> dict:
        """The `location` object of GET /locations/{locationId} (a subset of HighLevel's fields)."""
        return {"id": self.id, "companyId": self.company_id, "name": self.name, "timezone": self.timezone,
                "address": self.street, "city": self.city, "state": self.state, "country": self.country,
                "postalCode": self.postal_code}


@dataclass
class Agency:
    id: str
    name: str
    user_id: str
    location_ids: list[str] = field(default_factory=list)


@dataclass
class Skeleton:
    agencies: dict[str, Agency]
    locations: dict[str, Location]


def make_skeleton(config: SandboxConfig) -> Skeleton:
    rng = rng_for(config.seed, "skeleton")
    agencies: dict[str, Agency] = {}
    for index in range(config.agencies):
        name = names.AGENCY_NAMES[index % len(names.AGENCY_NAMES)]
        if index >= len(names.AGENCY_NAMES):
            name = f"{name} {index // len(names.AGENCY_NAMES) + 1}"
        agency = Agency(id=hl_id(rng), name=config.name_prefix + name, user_id=hl_id(rng))
        agencies[agency.id] = agency
    agency_list = list(agencies.values())
    locations: dict[str, Location] = {}
    used_names: set[str] = set()
    for index in range(config.locations):
        agency = agency_list[index % len(agency_list)]
        name = f"{rng.choice(names.LOCATION_FIRST)} {rng.choice(names.LOCATION_KIND)}"
        while name in used_names:
            name = f"{name} {rng.choice(names.CITIES)[0]}"
        used_names.add(name)
        city, state, zip3 = rng.choice(names.CITIES)
        street = f"{rng.randint(10, 9800)} {rng.choice(names.STREETS)}"
        postal_code = f"{zip3}{rng.randint(10, 99)}"
        location = Location(
            id=hl_id(rng), name=config.name_prefix + name, company_id=agency.id,
            address=f"{street}, {city}, {state} {postal_code}",
            street=street, city=city, state=state, postal_code=postal_code,
            timezone=names.TIMEZONES[(index + rng.randrange(3)) % len(names.TIMEZONES)],
            user_ids=[hl_id(rng) for _ in range(rng.randint(2, 4))],
        )
        locations[location.id] = location
        agency.location_ids.append(location.id)
    return Skeleton(agencies=agencies, locations=locations)


# --- tags -------------------------------------------------------------------------------------------
def make_tags(config: SandboxConfig, location: Location, anchor: datetime) -> dict[str, dict]:
    """Exactly config.tags tags, oldest first, about 3% soft-deleted; names unique within the location."""
    rng = rng_for(config.seed, "tags", location.id)
    span = max(config.days, 1) * 1.5 * 86400
    offsets = sorted((rng.random() * span for _ in range(config.tags)), reverse=True)
    seen: dict[str, int] = {}
    tags: dict[str, dict] = {}
    for offset in offsets:
        created = anchor - timedelta(seconds=offset)
        name = _tag_name(rng)
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        if count > 1:
            name = f"{name} ({count})"
        updated = created
        if rng.random() < 0.2:
            updated = min(anchor, created + timedelta(seconds=rng.random() * 20 * 86400))
        tag_id = object_id(rng, created.timestamp())
        tags[tag_id] = {
            "_id": tag_id, "tag": config.name_prefix + name, "locationId": location.id,
            "createdBy": rng.choice(location.user_ids), "deleted": rng.random() < 0.03,
            "createdAt": iso(created), "updatedAt": iso(updated),
        }
    return tags


def _tag_name(rng) -> str:
    base = rng.choice(names.TAG_BASES)
    roll = rng.random()
    if roll < 0.35:
        return base
    if roll < 0.75:
        return f"{base} {rng.choice(names.TAG_SUFFIXES)}"
    if roll < 0.92:
        return f"{rng.choice(names.TAG_PREFIXES)} {base}"
    return f"{rng.choice(names.TAG_PREFIXES)} {base} {rng.choice(names.TAG_SUFFIXES)}"


# --- accounts and groups ----------------------------------------------------------------------------
def make_accounts(config: SandboxConfig, location: Location, anchor: datetime) -> tuple[list[dict], list[dict]]:
    rng = rng_for(config.seed, "accounts", location.id)
    low, high = config.accounts_per_location
    count = rng.randint(low, high)
    platforms = rng.sample(names.PLATFORMS, min(count, len(names.PLATFORMS)))
    platforms += [rng.choice(names.PLATFORMS) for _ in range(count - len(platforms))]
    accounts = []
    for index, platform in enumerate(platforms):
        oauth_id = object_id(rng, anchor.timestamp() - rng.randint(30, 400) * 86400)
        profile_id = str(rng.randint(10**14, 10**15 - 1))
        account_type = names.ACCOUNT_TYPES[platform]
        # A normal day has no expired account: the control API expires one (control.py, account_health).
        expired = False
        expire = anchor + timedelta(days=rng.randint(20, 90))
        accounts.append({
            "id": f"{oauth_id}_{location.id}_{profile_id}_{account_type}",
            "oauthId": oauth_id, "profileId": profile_id,
            "name": f"{location.name}" + ("" if index < len(names.PLATFORMS) else f" {index}"),
            "platform": platform, "type": account_type,
            "expire": iso(expire), "isExpired": expired,
            "meta": {"profilePicture": f"https://sandbox.invalid/avatars/{profile_id}.png",
                     "username": location.name.lower().replace(" ", "").replace(".", "")[:24]},
        })
    groups = []
    if len(accounts) >= 2:
        chosen = rng.sample(accounts, rng.randint(2, len(accounts)))
        groups.append({"id": object_id(rng, anchor.timestamp()), "name": config.name_prefix + "All brand channels",
                       "accountIds": [a["id"] for a in chosen]})
    return accounts, groups


# --- posts ------------------------------------------------------------------------------------------
def day_posts(seed: int, profile_id: str, day: int) -> list[tuple[str, int, int, str]]:
    """The posts of one account on one day (relative to the anchor): (status, hour, minute, postType).
    Statistics count the published ones, so both views agree."""
    rng = rng_for(seed, "posts", profile_id, day)
    weekday_boost = 0.4 if day % 7 in (1, 2, 3) else 0.0
    count = sum(1 for _ in range(3) if rng.random() < 0.3 + weekday_boost / 3)
    posts = []
    for _ in range(count):
        if day >= 0:
            status = "scheduled" if rng.random() < 0.9 else "draft"
        else:
            roll = rng.random()
            status = "published" if roll < 0.88 else "failed" if roll < 0.95 else "draft"
            if status == "failed" and day >= -RECENT_CLEAN_DAYS:
                status = "published"  # a normal recent week has no failure: the control API plants one
        post_type = rng.choice(("post", "post", "post", "reel", "story"))
        posts.append((status, rng.choice(names.POSTING_HOURS), rng.choice((0, 15, 30, 45)), post_type))
    return posts


def make_users(config: SandboxConfig, location: Location) -> dict[str, dict]:
    rng = rng_for(config.seed, "users", location.id)
    users = {}
    for user_id in location.user_ids:
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        users[user_id] = {"id": user_id, "firstName": first, "lastName": last,
                          "email": f"{first.lower()}.{uuid_like(rng)[:4]}@example.com"}
    return users

