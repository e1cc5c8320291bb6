"""Campaign reports follow issue 20's campaigns: a spelling an admin merged in counts, and stops counting once
split off again (in the snapshot, the form's suggestions and a share page)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.campaign_aliases import campaign_merge, campaign_split
from dashboard.reports.share import share_link_create
from dashboard.reports.snapshot import ReportSubjectGone, report_snapshot
from dashboard.selectors.campaigns import campaign_names_shared, campaign_tags
from integrations.connections.audit import Actor
from tests.dashboard.browsing_factories import location_make, post_make, tag_make
from tests.dashboard.reports.conftest import NOW, report_make

ACTOR = Actor(user=None, ip_address="127.0.0.1")


@pytest.fixture
def spellings(db, clock):
    """"Spring Sale" in North; "Spring Promo" (another campaign until merged) in South."""
    north = location_make("loc-north", "North Store", tz="Europe/London")
    south = location_make("loc-south", "South Store", tz="Europe/London")
    tag_make(north, "Spring Sale", tag_id="n-spring")
    tag_make(south, "Spring Promo", tag_id="s-promo")
    post_make(north, "n1", tag_ids=["n-spring"], when=datetime(2026, 2, 3, 12, tzinfo=UTC), likes=10, comments=0,
              shares=0, summary="North spring post")
    post_make(south, "s1", tag_ids=["s-promo"], when=datetime(2026, 2, 4, 12, tzinfo=UTC), likes=30, comments=0,
              shares=0, summary="South promo post")
    return north, south


def _kpi(snapshot, metric):
    return {k["metric"]: k["total"] for k in snapshot["kpis"]}[metric]


def test_a_merged_spelling_joins_the_campaign_report_and_a_split_takes_it_out(spellings):
    north, south = spellings
    report = report_make(campaign="Spring Sale", sections=["kpis", "posts", "scorecard"])
    before = report_snapshot(report, now=NOW)
    assert before["subject"]["locations"] == ["North Store"] and _kpi(before, "likes") == 10

    campaign_merge(into="springsale", merged="springpromo", actor=ACTOR)
    merged = report_snapshot(report, now=NOW)
    assert merged["subject"]["locations"] == ["North Store", "South Store"]
    assert merged["subject"]["merged"] == ["springpromo"]
    assert _kpi(merged, "likes") == 40 and _kpi(merged, "posts") == 2
    assert {row["name"] for row in merged["scorecard"]["rows"]} == {"North Store", "South Store"}
    summaries = [p["summary"] for p in merged["posts"]["top"]]
    assert "South promo post" in summaries
    assert campaign_tags("Spring Promo").tags == {north.pk: ["n-spring"], south.pk: ["s-promo"]}

    campaign_split(into="springsale", merged="springpromo", actor=ACTOR)
    split = report_snapshot(report, now=NOW)
    assert split["subject"]["locations"] == ["North Store"] and _kpi(split, "likes") == 10
    assert campaign_tags("Spring Promo").tags == {south.pk: ["s-promo"]}


def test_a_report_on_the_merged_spelling_answers_the_whole_campaign(spellings):
    campaign_merge(into="springsale", merged="springpromo", actor=ACTOR)
    snapshot = report_snapshot(report_make(campaign="spring promo", sections=["kpis"]), now=NOW)
    assert snapshot["subject"]["key"] == "springsale" and _kpi(snapshot, "likes") == 40


def test_the_form_suggests_campaigns_that_span_locations_once_merged(spellings):
    assert campaign_names_shared() == []
    campaign_merge(into="springsale", merged="springpromo", actor=ACTOR)
    assert campaign_names_shared() == ["Spring Promo"] or campaign_names_shared() == ["Spring Sale"]
    assert len(campaign_names_shared()) == 1


def test_a_campaign_no_location_carries_is_gone(spellings):
    with pytest.raises(ReportSubjectGone):
        report_snapshot(report_make(campaign="Autumn Sale", sections=["kpis"]), now=NOW)


def test_a_campaign_share_page_shows_the_merged_spelling(spellings, client):
    campaign_merge(into="springsale", merged="springpromo", actor=ACTOR)
    report = report_make(campaign="Spring Sale", sections=["kpis", "posts"])
    _link, token = share_link_create(user=None, now=NOW, report=report)
    page = client.get(f"/share/{token}/")
    assert page.status_code == 200
    assert "South promo post" in page.text and "North spring post" in page.text
