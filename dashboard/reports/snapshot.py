"""A report's snapshot: everything one rendering shows, as plain JSON, read from the mirror only (never from
HighLevel). Pages, PDFs, CSVs and mail render a snapshot; share links and deliveries keep theirs, so what a
client opens or what a reviewer approved is what was computed then."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dashboard.reports import sources
from dashboard.reports.models import DEFAULT_SECTIONS, SECTIONS, Report
from dashboard.reports.periods import local_today, period_query, period_range
from dashboard.selectors.campaigns import CampaignTags, campaign_tags, campaigns_collect
from dashboard.selectors.goals import goals_pacing
from dashboard.selectors.statistics import METRIC_LABELS, demographics_for, statistics_for
from integrations.metrics import METRICS
from integrations.models import Location

VERSION = 1
KPI_METRICS = ("impressions", "reach", "engagement", "followers", "posts", "likes", "comments", "shares")
PERIOD_LABELS = dict(Report.Period.choices)


class ReportSubjectGone(Exception):
    """The report's location was removed, or its campaign has no tags left."""


def _kpis(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"metric": m, "label": METRIC_LABELS.get(m, m.capitalize()), "total": metrics[m]["total"],
             "previous_total": metrics[m]["previous_total"], "change_pct": metrics[m]["change_pct"]}
            for m in KPI_METRICS if m in metrics]


def _goals(locations: list[Location], now: datetime) -> list[dict[str, Any]]:
    """Each goal's pacing as of the snapshot (goals run over their own week or month, not the report's period)."""
    names = {loc.pk: loc.name for loc in locations}
    pacing = goals_pacing(location_pks=list(names), now=now)
    return [{**p.as_dict(), "location": names[pk], "state_label": p.state_label}
            for pk in names for p in pacing.get(pk, [])]


def _ordered(metrics: dict[str, Any]) -> dict[str, Any]:
    return {m: metrics[m] for m in METRICS if m in metrics}


def _campaign_lifts(campaign: CampaignTags, locations: list[Location], query) -> dict[int, float | None]:
    """Issue 20's lift of the campaign per location (its posts against that location's others, on UTC days as
    the campaigns page counts them)."""
    found = campaigns_collect(locations=locations, start=query.start, end=query.end, only=campaign.slug)
    at = found.get(campaign.slug)
    return {pk: row.lift_pct for pk, row in at.locations.items()} if at else {}


def snapshot_build(*, title: str, location: Location | None, campaign: CampaignTags | None, period: str,
                   sections: list[str], note: str, now: datetime, custom_start: date | None = None,
                   custom_end: date | None = None) -> dict[str, Any]:
    if campaign is not None:
        locations = campaign.locations()
        timezone_name = "UTC" if len({loc.timezone for loc in locations}) != 1 else locations[0].timezone
        tag_ids: dict[int, list[str]] | None = campaign.tags
        subject = {"kind": "campaign", "name": campaign.name, "key": campaign.slug, "merged": campaign.merged,
                   "locations": [loc.name for loc in locations]}
    elif location is not None:
        locations, timezone_name, tag_ids = [location], location.timezone or "UTC", None
        subject = {"kind": "location", "name": location.name, "id": location.location_id,
                   "locations": [location.name]}
    else:
        raise ReportSubjectGone("a report needs a location or a campaign")
    start, end = period_range(period, local_today(timezone_name, now), custom_start, custom_end)
    query = period_query(start, end)
    previous_start, previous_end = query.previous
    if tag_ids is None:
        data = statistics_for(location_pks=[location.pk], query=query)
    else:  # statistics are per location, not per tag: a campaign is measured by its posts
        data = sources.post_metrics(locations=locations, query=query, tag_ids=tag_ids)
    wanted = [s for s in (sections or DEFAULT_SECTIONS) if s in SECTIONS]
    snapshot: dict[str, Any] = {
        "version": VERSION, "title": title, "subject": {**subject, "timezone": timezone_name},
        "period": {"key": period, "label": PERIOD_LABELS.get(period, period), "start": start.isoformat(),
                   "end": end.isoformat(), "previous_start": previous_start.isoformat(),
                   "previous_end": previous_end.isoformat()},
        "sections": wanted, "generated_at": now.isoformat(), "metric_labels": METRIC_LABELS,
        "metrics": _ordered(data["metrics"]), "platforms": data["platforms"],
        "kpis": _kpis(data["metrics"]),
        "demographics": None, "posts": None, "scorecard": None,
        "goals": [], "note": note.strip() if "note" in wanted else "",
    }
    if "demographics" in wanted:
        pks = [loc.pk for loc in locations]
        # HighLevel answers demographics for the window asked at sync time; when none ends within the period,
        # the latest answer stands in (the section says which day it is as of).
        snapshot["demographics"] = demographics_for(location_pks=pks, query=query) or demographics_for(
            location_pks=pks, query=period_query(start, local_today(timezone_name, now)))
    if "posts" in wanted:
        snapshot["posts"] = sources.top_and_bottom_posts(locations=locations, query=query, tag_ids=tag_ids)
    if "goals" in wanted:
        snapshot["goals"] = _goals(locations, now)
    if "scorecard" in wanted:
        lifts = _campaign_lifts(campaign, locations, query) if campaign is not None else None
        snapshot["scorecard"] = sources.tag_scorecard(locations=locations, query=query, tag_ids=tag_ids, lifts=lifts)
    return snapshot


def report_snapshot(report: Report, *, now: datetime) -> dict[str, Any]:
    campaign = None
    if report.campaign:
        campaign = campaign_tags(report.campaign)
        if campaign is None:
            raise ReportSubjectGone(f"No location has a tag named like {report.campaign!r} any more.")
    return snapshot_build(title=report.name, location=report.location, campaign=campaign, period=report.period,
                          sections=report.sections, note=report.note, now=now, custom_start=report.custom_start,
                          custom_end=report.custom_end)
