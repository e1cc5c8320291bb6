"""Statistics of one location as daily points, per account and for all accounts, per platform.

Two contracts (docs/deploy.md, "Statistics contracts"), chosen per connection:
- v3 (HIGHLEVEL_SOCIAL_API_VERSION, the default): ranges. Each refresh asks again for the last
  `SYNC_STATISTICS_REFETCH_DAYS` days (recent numbers still move) and for any day missing back to
  `SYNC_STATISTICS_HORIZON_DAYS`, with the previous period of the same length.
- 2021-07-28, after HighLevel refused v3 (a 4xx about the version, or an answer whose `dayRange` does not name
  the asked days): HighLevel's default window, the last 7 days, once a day (statistics_window.py). The
  connection keeps that contract (Connection.social_api_version) until an admin tries v3 again or the weekly
  re-probe finds v3 served (integrations/connections/contract.py).

Every answer's days are proven before a number is stored: `dayRange` must name the asked days, in order.
Weekday names repeat every 7 days, so a range of 7n days could be matched by a server that ignores ranges
and answers last week: such a range is widened by one day, and then only an honoured range matches.

Per-day numbers per platform come from `platformTotals` (and posts from `postPerformance`); the
all-platform rows (platform '') from `postPerformance`. A number HighLevel leaves out for a day is stored
as None ("not available"); a metric a platform does not report is not stored at all.

Reach, and comments and shares per platform, come only as range totals (`breakdowns.reach`,
`breakdowns.engagement`), so under v3 they are asked one day at a time, back to
`SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS` (default: the whole horizon; each day costs one request per account
and one for all): the refetch window on every run, then days never asked, newest first, at most
`SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN` one-day requests per account per run (default: the whole horizon,
so a second run has nothing left to fill in). The all-platform reach row of a day ('' platform, None when
HighLevel gave no reach) records that the day was asked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from integrations.connections.contract import (
    connection_fall_back,
    connection_v3_confirmed,
    statistics_contract_for,
)
from integrations.highlevel.errors import VersionRefused
from integrations.highlevel.ratelimit import background
from integrations.highlevel.types import Statistics
from integrations.models import Event, SocialAccount, StatisticsPoint
from integrations.sync.accounts import accounts_refresh
from integrations.sync.agency_rollup import agency_days_fold_soon
from integrations.sync.lanes import in_lanes
from integrations.sync.locks import LeaseLost
from integrations.sync.runs import RunContext
from integrations.sync.statistics_store import ALL_PLATFORMS, answer_store, points_compare, points_write
from integrations.sync.statistics_window import default_window_refresh

ALL = StatisticsPoint.ALL_ACCOUNTS
BREAKDOWN_MARKER = "reach"  # its '' row says a day's breakdown was asked
ENGAGEMENT_PER_DAY = ("comments", "shares")  # likes per platform and day come with every range already
BREAKDOWN_BATCH = 32  # one-day answers written together (_Breakdowns)


def _breakdown_settings() -> tuple[int, int]:
    """(how many recent days get reach and shares, at most how many one-day requests per account per run)."""
    horizon = max(0, min(settings.SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS, _settings()[0]))  # 0: no one-day requests
    return horizon, max(1, settings.SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN or horizon)


def _settings() -> tuple[int, int]:
    # 181: a 90-day chart and the 90 days it is compared with, plus a day for locations west of UTC (their
    # today is HighLevel's yesterday).
    return settings.SYNC_STATISTICS_HORIZON_DAYS, settings.SYNC_STATISTICS_REFETCH_DAYS


def statistics_window(ctx: RunContext, profile_id: str, today: date) -> tuple[date, date]:
    """From the first missing day (back to the horizon) or the refetch window, whichever is earlier, to today;
    never 7n days long (see the module's note), so an answer for the wrong week cannot pass for it."""
    horizon, refetch = _settings()
    first = today - timedelta(days=horizon - 1)
    have = set(StatisticsPoint.objects.filter(location=ctx.location, profile_id=profile_id, day__gte=first)
               .values_list("day", flat=True).distinct())
    missing = next((first + timedelta(days=n) for n in range(horizon) if first + timedelta(days=n) not in have), today)
    start = min(missing, today - timedelta(days=refetch - 1))
    if ((today - start).days + 1) % 7 == 0:
        start -= timedelta(days=1)
    return start, today


def statistics_refresh(ctx: RunContext) -> None:
    # Hundreds of one-day requests on a first fill: they yield the location's rate limit to its tags and
    # accounts refreshes whenever those wait for it (ratelimit.background), and use it all otherwise.
    try:
        with background():
            _statistics_refresh(ctx)
    finally:
        agency_days_fold_soon(now=True)  # what this unit appended, folded before it ends (readers add it meanwhile)


def _statistics_refresh(ctx: RunContext) -> None:
    location = ctx.location
    accounts = SocialAccount.objects.filter(location=location, removed_at__isnull=True).exclude(profile_id="")
    if not accounts.exists() and not SocialAccount.objects.filter(location=location).exists():
        accounts_refresh(ctx)  # a first sync: statistics need the profile ids
    profiles = sorted(set(accounts.values_list("profile_id", flat=True)))
    scopes = [(ALL, profiles)] + [(p, [p]) for p in profiles] if profiles else []
    written_before = ctx.counts["rows_written"]
    contract = statistics_contract_for(location.connection_id)
    if scopes and contract.ranges:
        refusal = _ranges_refresh(ctx, scopes, contract.version)
        if refusal is None:
            if contract.reprobe:
                connection_v3_confirmed(location.connection_id)
                ctx.problem("statistics: HighLevel serves v3 again; this connection is back on date ranges")
        else:
            reason, trace_id = refusal
            ctx.problem(f"statistics: v3 refused ({reason}){_trace(trace_id)}; this connection now asks "
                        f"HighLevel's default window (the last 7 days) once a day under 2021-07-28", trace_id)
            connection_fall_back(location.connection_id, reason=reason, trace_id=trace_id)
            # The rest of the run (posts too) follows the contract now in use.
            ctx.client.social_version = contract.legacy_version
            default_window_refresh(ctx, scopes, contract.legacy_version)
    elif scopes:
        default_window_refresh(ctx, scopes, contract.version)
    rows = ctx.counts["rows_written"] - written_before
    if rows:
        Event.objects.create(
            type=Event.Type.STATISTICS_UPDATED, occurred_at=timezone.now(), location=location,
            connection_id=location.connection_id, run_id=ctx.run.pk,
            payload={"location_id": location.location_id, "rows": rows},
        )
        ctx.wrote(1)


def _trace(trace_id: str | None) -> str:
    return f" (traceId {trace_id})" if trace_id else ""


@dataclass
class _Refusal:
    reason: str = ""
    trace_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.reason)


def _ranges_refresh(ctx: RunContext, scopes: list[tuple[str, list[str]]], version: str) -> tuple | None:
    """Ask and store the v3 ranges; (reason, traceId) when HighLevel refused v3, after which nothing more is
    asked (answers proven before the refusal are kept: their days matched)."""
    location = ctx.location
    today = timezone.now().date()
    # The ranges first, then the one-day requests newest first across every account (recent charts fill
    # first), in lanes. Progress counts requests, so a long first fill moves.
    days = {scope: breakdown_days(ctx, scope, today) for scope, _ in scopes}
    # (scope, its profile ids, the range asked, True for a one-day breakdown)
    work: list[tuple[str, list[str], tuple[date, date], bool]] = [
        (scope, ids, statistics_window(ctx, scope, today), False) for scope, ids in scopes]
    newest_first = range(max(map(len, days.values()), default=0))
    work += [(scope, ids, (days[scope][n], days[scope][n]), True) for n in newest_first
             for scope, ids in scopes if n < len(days[scope])]
    refused = _Refusal()

    def fetch(item: tuple[str, list[str], tuple[date, date], bool]) -> list[Statistics] | None:
        _, profile_ids, (start, end), one_day = item
        if refused:
            return None
        previous = None if one_day else (start - (end - start) - timedelta(days=1), start - timedelta(days=1))
        try:
            return ctx.client.get_statistics(location.location_id, profile_ids, current_range=(start, end),
                                             previous_range=previous, version=version)
        except VersionRefused as exc:
            if not refused:
                refused.reason, refused.trace_id = f"HighLevel answered {exc.status}: {exc.message}"[:200], exc.trace_id
            return None

    # The first request alone, and its answer checked before the lanes start (in_lanes is lazy): if HighLevel
    # refuses v3, it refuses one request, not one per lane.
    probe = [(work[0], fetch(work[0]))] if work else []
    lanes = in_lanes(fetch, work[1:])
    breakdowns = _Breakdowns(ctx)
    try:
        # The lanes start before the probe's answer is stored, if it passed: storing it is a transaction that
        # may wait for other locations' writes (the agency rollup), and the location's rate limit went unused
        # meanwhile (seconds of a first sync under load). A lane's failure here is raised after the probe's
        # answer is stored, as it was when the probe was stored first.
        head: list = []
        failure: Exception | None = None
        if probe and probe[0][1] is not None and not refused and all(a.answers_asked_days for a in probe[0][1]):
            try:
                head = list(itertools.islice(lanes, 1))
            except Exception as exc:  # raised below, once the probe's answer is stored
                failure = exc
        answered = itertools.chain(probe, head, lanes if failure is None else ())
        for done, ((scope, _, (start, end), one_day), answers) in enumerate(answered, start=1):
            if answers is not None and not refused:
                wrong = next((a for a in answers if not a.answers_asked_days), None)
                if wrong is not None:
                    refused.reason = (f"asked {start}..{end} ({(end - start).days + 1} days), dayRange "
                                      f"{_labels(wrong.day_range)}: nothing of it stored")
                    refused.trace_id = wrong.trace_id
                elif one_day:
                    breakdowns.add(scope, start, answers)
                else:
                    for answer in answers:
                        answer_store(ctx, scope, answer, list(answer.asked_days or ()))
            ctx.progress(done, len(work))
        if failure is not None:
            raise failure
    except LeaseLost:
        raise  # another worker has the location now: nothing more is written here
    except Exception:
        breakdowns.flush()  # the answers proven before the failure are kept
        raise
    breakdowns.flush()
    ctx.progress(len(work), len(work), force=True)
    return (refused.reason, refused.trace_id) if refused else None


def _labels(day_range: tuple[str, ...]) -> str:
    shown = ", ".join(day_range[:8]) + (", ..." if len(day_range) > 8 else "")
    return f"[{shown}] ({len(day_range)} days)"


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


class _Breakdowns:
    """One-day answers (their days proven by the caller) waiting to be written, BREAKDOWN_BATCH of them at a
    time: one read per scope and one short transaction, where each answer cost its own (the first statistics
    fill is hundreds of one-day requests). A worker killed meanwhile loses only unwritten answers, which are
    the days the next run asks again (a day counts as asked once its marker row is stored)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.pending: dict[str, dict[tuple[str, str, date], float | None]] = {}
        self.answers = 0

    def add(self, scope: str, day: date, answers: list[Statistics]) -> None:
        for answer in answers:
            self.ctx.trace(answer.trace_id)
        values = self.pending.setdefault(scope, {})
        for platform, metric, (value,) in _breakdown_series(answers):
            values[(platform, metric, day)] = value
        self.answers += 1
        if self.answers >= BREAKDOWN_BATCH:
            self.flush()

    def flush(self) -> None:
        """Every scope's pending answers compared with the stored points, then written in one short transaction
        (a commit each cost more than its rows)."""
        pending, self.pending, self.answers = self.pending, {}, 0
        points_write(self.ctx, [points_compare(self.ctx, scope, values) for scope, values in pending.items()])


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
