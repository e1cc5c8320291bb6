"""Statistics of one location as daily points, per account and for all accounts, per platform.

Each refresh asks again for the last `SYNC_STATISTICS_REFETCH_DAYS` days (recent numbers still move) and
for any day missing back to `SYNC_STATISTICS_HORIZON_DAYS`, with the previous period of the same length.
Per-day numbers per platform come from `platformTotals` (and posts from `postPerformance`); the
all-platform rows (platform '') from `postPerformance`. A number HighLevel leaves out for a day is stored
as None ("not available"); a metric a platform does not report is not stored at all. If HighLevel answers
another number of days than asked, the range is asked again per 7-day window.

Reach, and comments and shares per platform, come only as range totals (`breakdowns.reach`,
`breakdowns.engagement`), so they are asked one day at a time, back to
`SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS` (default: the whole horizon; each day costs one request per account
and one for all): the refetch window on every run, then days never asked, newest first, at most
`SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN` one-day requests per account per run (default: the whole horizon,
so a second run has nothing left to fill in). The all-platform reach row of a day ('' platform, None when
HighLevel gave no reach) records that the day was asked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from integrations.bulk import rows_insert, rows_update
from integrations.highlevel.ratelimit import background
from integrations.highlevel.types import Statistics
from integrations.models import Demographics, Event, SocialAccount, StatisticsPoint
from integrations.sync.accounts import accounts_refresh
from integrations.sync.lanes import in_lanes
from integrations.sync.runs import RunContext

ALL = StatisticsPoint.ALL_ACCOUNTS
ALL_PLATFORMS = ""
FALLBACK_WINDOW = 7
BREAKDOWN_MARKER = "reach"  # its '' row says a day's breakdown was asked
ENGAGEMENT_PER_DAY = ("comments", "shares")  # likes per platform and day come with every range already
POINT_FIELDS = ("location", "profile_id", "platform", "metric", "day", "value", "fetched_at")


def _breakdown_settings() -> tuple[int, int]:
    """(how many recent days get reach and shares, at most how many one-day requests per account per run)."""
    horizon = max(0, min(settings.SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS, _settings()[0]))  # 0: no one-day requests
    return horizon, max(1, settings.SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN or horizon)


def _settings() -> tuple[int, int]:
    # 181: a 90-day chart and the 90 days it is compared with, plus a day for locations west of UTC (their
    # today is HighLevel's yesterday).
    return settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_REFETCH_DAYS


def statistics_window(ctx: RunContext, profile_id: str, today: date) -> tuple[date, date]:
    """From the first missing day (back to the horizon) or the refetch window, whichever is earlier, to today."""
    horizon, refetch = _settings()
    first = today - timedelta(days=horizon - 1)
    have = set(StatisticsPoint.objects.filter(location=ctx.location, profile_id=profile_id, day__gte=first)
               .values_list("day", flat=True).distinct())
    missing = next((first + timedelta(days=n) for n in range(horizon) if first + timedelta(days=n) not in have), today)
    return min(missing, today - timedelta(days=refetch - 1)), today


def statistics_refresh(ctx: RunContext) -> None:
    # Hundreds of one-day requests on a first fill: they yield the location's rate limit to its tags and
    # accounts refreshes whenever those wait for it (ratelimit.background), and use it all otherwise.
    with background():
        _statistics_refresh(ctx)


def _statistics_refresh(ctx: RunContext) -> None:
    location = ctx.location
    accounts = SocialAccount.objects.filter(location=location, removed_at__isnull=True).exclude(profile_id="")
    if not accounts.exists() and not SocialAccount.objects.filter(location=location).exists():
        accounts_refresh(ctx)  # a first sync: statistics need the profile ids
    profiles = sorted(set(accounts.values_list("profile_id", flat=True)))
    scopes = [(ALL, profiles)] + [(p, [p]) for p in profiles] if profiles else []
    today = timezone.now().date()
    written_before = ctx.counts["rows_written"]
    # The ranges first, then the one-day requests newest first across every account (recent charts fill
    # first), in lanes. Progress counts requests, so a long first fill moves.
    days = {scope: breakdown_days(ctx, scope, today) for scope, _ in scopes}
    # (scope, its profile ids, the range asked, True for a one-day breakdown)
    work: list[tuple[str, list[str], tuple[date, date], bool]] = [
        (scope, ids, statistics_window(ctx, scope, today), False) for scope, ids in scopes]
    newest_first = range(max(map(len, days.values()), default=0))
    work += [(scope, ids, (days[scope][n], days[scope][n]), True) for n in newest_first
             for scope, ids in scopes if n < len(days[scope])]
    refused: set[str] = set()  # scopes whose one-day ranges HighLevel did not honour: not asked again

    def fetch(item: tuple[str, list[str], tuple[date, date], bool]) -> list | None:
        scope, profile_ids, (start, end), one_day = item
        if not one_day:
            return _ask(ctx, profile_ids, start, end)
        if scope in refused:
            return None
        return ctx.client.get_statistics(location.location_id, profile_ids, current_range=(start, end))

    for done, ((scope, _, (day, _), one_day), answers) in enumerate(in_lanes(fetch, work), start=1):
        if not one_day:
            for answer, first_day in answers:
                _store(ctx, scope, answer, first_day)
        elif answers is not None and scope not in refused and not _breakdown_store(ctx, scope, day, answers):
            refused.add(scope)
        ctx.progress(done, len(work))
    ctx.progress(len(work), len(work), force=True)
    rows = ctx.counts["rows_written"] - written_before
    if rows:
        Event.objects.create(
            type=Event.Type.STATISTICS_UPDATED, occurred_at=timezone.now(), location=location,
            connection_id=location.connection_id, run_id=ctx.run.pk,
            payload={"location_id": location.location_id, "rows": rows},
        )
        ctx.wrote(1)


def _ask(ctx: RunContext, profile_ids: list[str], start: date, end: date):
    """(answer, its first day) for the range, falling back to 7-day windows when the range is not honoured."""
    length = (end - start).days + 1
    previous = (start - timedelta(days=length), start - timedelta(days=1))
    answers = ctx.client.get_statistics(ctx.location.location_id, profile_ids, current_range=(start, end),
                                        previous_range=previous)
    if all(a.range_honoured for a in answers):
        return [(a, start) for a in answers]
    ctx.problem(f"statistics: asked {length} days, answered otherwise; asking per {FALLBACK_WINDOW} days",
                next((a.trace_id for a in answers if a.trace_id), None))
    out = []
    day = start
    while day <= end:
        last = min(end, day + timedelta(days=FALLBACK_WINDOW - 1))
        for answer in ctx.client.get_statistics(ctx.location.location_id, profile_ids, current_range=(day, last)):
            if answer.range_honoured:
                out.append((answer, day))
            else:
                ctx.problem(f"statistics {day}..{last} not honoured; those days are left out", answer.trace_id)
        day = last + timedelta(days=1)
    return out


def _series(answer: Statistics):
    """(platform, metric, series) of every per-day number the answer holds."""
    for platform in answer.platforms:
        for metric in answer.metrics:
            series = answer.daily(platform, metric)
            if series is not None:
                yield platform, metric, series
    for metric, series in answer.performance.items():
        yield ALL_PLATFORMS, metric, series
    if answer.posts_by_platform:
        days = zip(*answer.posts_by_platform.values(), strict=False)
        yield ALL_PLATFORMS, "posts", tuple(None if any(v is None for v in day) else sum(day) for day in days)


def breakdown_days(ctx: RunContext, scope: str, today: date) -> list[date]:
    """The days to ask one at a time: the refetch window, then days never asked, newest first, within the
    horizon and the per-run budget."""
    refetch = _settings()[1]
    horizon, budget = _breakdown_settings()
    recent = [today - timedelta(days=n) for n in range(min(refetch, horizon))]
    asked = set(StatisticsPoint.objects.filter(
        location=ctx.location, profile_id=scope, platform=ALL_PLATFORMS, metric=BREAKDOWN_MARKER,
        day__gte=today - timedelta(days=horizon - 1)).values_list("day", flat=True))
    older = (today - timedelta(days=n) for n in range(len(recent), horizon))
    missing = [day for day in older if day not in asked][:max(0, budget - len(recent))]
    return recent[:budget] + missing


def _breakdown_store(ctx: RunContext, scope: str, day: date, answers: list[Statistics]) -> bool:
    """Store one day's breakdowns; False when HighLevel did not answer for the single day (older days would
    not fare better, so the caller stops asking for this scope)."""
    unhonoured = [a for a in answers if not a.range_honoured]
    if unhonoured:
        ctx.problem(f"statistics: one-day range {day} answered otherwise; daily reach and shares left out",
                    unhonoured[0].trace_id)
        return False
    for answer in answers:
        ctx.trace(answer.trace_id)
    _upsert_points(ctx, scope, [day], _breakdown_series(answers))
    return True


def _breakdown_series(answers: list[Statistics]):
    """(platform, metric, (value,)) of one day's reach, comments and shares per platform, and its total reach."""
    values: dict[tuple[str, str], float | None] = {}

    def add(platform: str, metric: str, value) -> None:
        key = (platform, metric)
        if key in values and values[key] is None:
            return  # one chunk without the number: the sum is not known
        values[key] = None if value is None else values.get(key, 0) + value

    total_reach: list = []
    for answer in answers:
        reach = answer.breakdowns.get("reach")
        total_reach.append(reach.total if reach else None)
        for platform, entry in (reach.platforms if reach else {}).items():
            add(platform, "reach", entry.get("value"))
        for platform, entry in answer.engagement.items():
            for metric in ENGAGEMENT_PER_DAY:
                if metric in entry:
                    add(platform, metric, entry[metric])
    for (platform, metric), value in values.items():
        yield platform, metric, (value,)
    yield ALL_PLATFORMS, BREAKDOWN_MARKER, (None if None in total_reach else sum(total_reach),)


def _store(ctx: RunContext, scope: str, answer: Statistics, first_day: date) -> None:
    ctx.trace(answer.trace_id)
    days = [first_day + timedelta(days=n) for n in range(len(answer.day_range))]
    if not days:
        return
    _upsert_points(ctx, scope, days, _series(answer))
    ctx.wrote(_store_demographics(ctx, scope, answer, days[0], days[-1], timezone.now()))


def _upsert_points(ctx: RunContext, scope: str, days: list[date], series_list) -> None:
    """Write each (platform, metric, series aligned with days) that differs from what is stored."""
    now = timezone.now()
    existing = _stored_points(ctx.location.pk, scope, days[0], days[-1])
    creates: dict[tuple[str, str, date], float | None] = {}
    updates = []
    for platform, metric, series in series_list:
        for day, value in zip(days, series, strict=False):
            value = None if value is None else float(value)
            found = existing.get((platform, metric, day))
            if found is None:
                creates[(platform, metric, day)] = value
            elif found[1] != value:
                updates.append((found[0], value, now))
            else:
                ctx.count("unchanged")
    if not (creates or updates):
        return
    location_id = ctx.location.pk
    with transaction.atomic():
        rows_insert(StatisticsPoint, POINT_FIELDS, [(location_id, scope, platform, metric, day, value, now)
                                                    for (platform, metric, day), value in creates.items()])
        rows_update(StatisticsPoint, ("value", "fetched_at"), updates)
    ctx.count("created", len(creates))
    ctx.count("updated", len(updates))
    ctx.wrote(len(creates) + len(updates))


# Read once per HighLevel answer: plain SQL spares the ORM's compiling (the covering index answers it).
POINTS_SQL = ('SELECT "id", "platform", "metric", "day", "value" FROM "integrations_statisticspoint" '
              'WHERE "location_id" = %s AND "profile_id" = %s AND "day" >= %s AND "day" <= %s')


def _stored_points(location_id: int, scope: str, first: date, last: date) -> dict[tuple[str, str, date], tuple]:
    """{(platform, metric, day): (id, value)} of what is stored for the scope's days."""
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute(POINTS_SQL, [location_id, scope, adapt(first), adapt(last)])
        rows = cursor.fetchall()
    # SQLite answers a day as its text.
    return {(platform, metric, day if isinstance(day, date) else date.fromisoformat(day)): (pk, value)
            for pk, platform, metric, day, value in rows}


def _store_demographics(ctx: RunContext, scope: str, answer: Statistics, start: date, end: date,
                        now: datetime) -> int:
    if not answer.demographics:
        return 0
    # Keyed by the day it describes: a later refresh asking a shorter window must not add a row.
    row = Demographics.objects.filter(location=ctx.location, profile_id=scope, range_end=end).first()
    if row is None:
        Demographics.objects.create(location=ctx.location, profile_id=scope, range_start=start, range_end=end,
                                    data=answer.demographics, fetched_at=now)
        return 1
    if row.data != answer.demographics:
        Demographics.objects.filter(pk=row.pk).update(data=answer.demographics, range_start=start, fetched_at=now)
        return 1
    return 0
