"""The statistics query: a date range (presets or custom, in the location's own days), platform, account and
compare-to-previous, read from a query string the same way by the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from dashboard.params import Params
from integrations.models import Location, SocialAccount

PRESETS = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "mtd": "Month to date",
           "last_month": "Last month", "custom": "Custom range"}
DEFAULT_PRESET = "30d"
MAX_DAYS = 732


def location_today(location: Location | None, now: datetime | None = None) -> date:
    """Today in the location's time zone (UTC for the agency-wide view or an unknown zone)."""
    try:
        zone = ZoneInfo(location.timezone) if location and location.timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(zone).date()


def preset_range(preset: str, today: date) -> tuple[date, date]:
    if preset == "mtd":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    days = {"7d": 7, "30d": 30, "90d": 90}[preset]
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True)
class StatsQuery:
    start: date
    end: date
    preset: str = DEFAULT_PRESET
    platform: str = ""
    account: str = ""  # HighLevel's account id
    profile_id: str = ""  # the account's profile id; '' = all accounts
    compare: bool = False

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        return self.start - timedelta(days=self.length), self.start - timedelta(days=1)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.length)]

    def as_query(self) -> dict[str, str]:
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.preset != "custom":
            query = {"range": self.preset}
        query.update({k: v for k, v in (("platform", self.platform), ("account", self.account)) if v})
        query["compare"] = "previous" if self.compare else "off"
        return query


COMPARE_CHOICES = ("previous", "off")


def _custom_range(params: Params) -> tuple[date, date] | None:
    """start and end, readable and forming a range of at most MAX_DAYS; None (after params.fail) otherwise."""
    known = len(params.problems)
    start, end = params.day("start"), params.day("end")
    if start is None or end is None:
        if len(params.problems) == known:  # one is missing rather than unreadable
            missing = "end" if start else "start"
            params.fail(missing, f"{missing} must be a date as YYYY-MM-DD: start and end go together.")
        return None
    if start > end:
        params.fail("start", "start must not be after end.")
        return None
    if (end - start).days + 1 > MAX_DAYS:
        params.fail("end", f"a range spans at most {MAX_DAYS} days.")
        return None
    return start, end


def stats_query_from(params: Params, *, today: date, accounts: dict[str, SocialAccount],
                     compare_default: bool = False) -> StatsQuery:
    """start/end win over range=; a bad value fails as `params` says (400 on the API; on pages, the default
    30 days, or all accounts, with the reason shown)."""
    presets = [p for p in PRESETS if p != "custom"]
    if params.raw("start") or params.raw("end"):
        custom = _custom_range(params)
        preset = "custom" if custom else DEFAULT_PRESET
        start, end = custom or preset_range(DEFAULT_PRESET, today)
    else:
        preset = params.choice("range", presets, default=DEFAULT_PRESET)
        start, end = preset_range(preset, today)
    extra: dict[str, Any] = {}
    account = params.text("account", max_length=64)
    if account:
        row = accounts.get(account)
        if row is None:
            params.fail("account", "account is not a social account of this location.")
        else:
            extra = {"account": account, "profile_id": row.profile_id or "-", "platform": row.platform}
    compare = params.choice("compare", COMPARE_CHOICES, default="previous" if compare_default else "off")
    return StatsQuery(start=start, end=end, preset=preset,
                      platform=extra.get("platform", params.text("platform", max_length=20)),
                      account=extra.get("account", ""), profile_id=extra.get("profile_id", ""),
                      compare=compare == "previous")


def accounts_of(location_pks: list[int]) -> dict[str, SocialAccount]:
    """{account id: account} of the locations, for the account filter."""
    # Without HighLevel's raw answer, which no reader of these uses: decoding it for every account of an
    # agency's locations was most of this read.
    rows = SocialAccount.objects.filter(location_id__in=location_pks).defer("raw").order_by("platform", "name", "id")
    return {row.account_id: row for row in rows}
