"""Statistics under Version 2021-07-28: HighLevel's default window, once a day.

That contract takes no dates: every answer is "the last 7 days (excluding today) with comparison to the
previous 7 days". Whose today is not documented. We assume the location's (HighLevel keeps a time zone per
location and its Social Planner shows statistics in it), so an answer is stored only when its 7 weekday
names are those of the 7 days before the location's today, in order. Should HighLevel count in UTC
instead, its week differs from the location's for a few hours a day (names shifted by one): such an answer
is stored nowhere, recorded on the run with its traceId, and the window is asked again on the next refresh,
which lands in the hours when both agree; so the assumption costs at most a delay, never a wrong date.

So history grows from the day the connection is on this contract, 7 days back; reach, and comments and
shares per platform, come only as 7-day totals under it and are not stored per day.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from integrations.highlevel.types import Statistics, day_names_match
from integrations.models import Location
from integrations.sync.runs import RunContext
from integrations.sync.statistics_store import answer_store

WINDOW = 7


def location_today(location: Location) -> date:
    try:
        zone = ZoneInfo(location.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return timezone.now().astimezone(zone).date()


def window_days(answer: Statistics, today: date) -> list[date] | None:
    """The 7 days before `today` when the answer's `dayRange` names them, in order; else None."""
    days = [today - timedelta(days=n) for n in range(WINDOW, 0, -1)]
    return days if day_names_match(answer.day_range, days) else None


def default_window_refresh(ctx: RunContext, scopes: list[tuple[str, list[str]]], version: str) -> None:
    """Ask each scope's default window, unless it was stored today already, and store its proven days."""
    location = ctx.location
    today = location_today(location)
    if Location.objects.filter(pk=location.pk, statistics_window_on=today).exists():
        return
    stored = True
    for done, (scope, profile_ids) in enumerate(scopes, start=1):
        for answer in ctx.client.get_statistics(location.location_id, profile_ids, version=version):
            days = window_days(answer, today)
            if days is None:
                stored = False
                trace = f" (traceId {answer.trace_id})" if answer.trace_id else ""
                ctx.problem(f"statistics: the default window's dayRange {list(answer.day_range)} does not name the "
                            f"7 days before {today} (the location's today){trace}: nothing of it stored, asked "
                            f"again on the next refresh", answer.trace_id)
                continue
            answer_store(ctx, scope, answer, days)
        ctx.progress(done, len(scopes))
    ctx.progress(len(scopes), len(scopes), force=True)
    if stored:  # a day whose answer could not be placed is asked again on the next run
        Location.objects.filter(pk=location.pk).update(statistics_window_on=today)
