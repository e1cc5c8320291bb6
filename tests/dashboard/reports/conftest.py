"""A location with a month of statistics, demographics and tagged posts with insights (full data), one
with statistics only (partial) and one with nothing (empty), at a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from dashboard.reports.models import Report
from tests.dashboard.browsing_factories import (
    accounts_make,
    demographics_make,
    location_make,
    post_make,
    statistics_make,
    tag_make,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # February is "last month"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def fill_location(location, *, posts: bool = True, stats: bool = True, demographics: bool = True) -> None:
    end = date(2026, 3, 9)
    if stats:
        statistics_make(location, end=end, days=70, accounts=accounts_make(location, platforms=("facebook",
                                                                                                "instagram")))
    if demographics:
        demographics_make(location, end=date(2026, 2, 28))
    if posts:
        spring = tag_make(location, "Spring Sale", tag_id=f"{location.location_id}-spring")
        tips = tag_make(location, "Tips", tag_id=f"{location.location_id}-tips")
        for n in range(12):
            when = datetime(2026, 2, 1 + n * 2, 15, tzinfo=UTC)
            post_make(location, f"{location.location_id}-p{n}", tag_ids=[spring.tag_id if n % 2 else tips.tag_id],
                      when=when, summary=f"Post number {n}", platform="instagram" if n % 3 else "facebook",
                      likes=10 * n if n != 5 else None, comments=n if n != 5 else None,
                      shares=1 if n != 5 else None)
        # the previous period (January) and one not published
        post_make(location, f"{location.location_id}-old", tag_ids=[spring.tag_id],
                  when=datetime(2026, 1, 20, 12, tzinfo=UTC), likes=4, comments=0, shares=0)
        post_make(location, f"{location.location_id}-failed", tag_ids=[spring.tag_id], status="failed",
                  when=datetime(2026, 2, 3, 12, tzinfo=UTC), likes=999, comments=0, shares=0)


@pytest.fixture
def full_location(db, clock):
    location = location_make("loc-full", "Acme Bakery", tz="America/New_York")
    fill_location(location)
    return location


@pytest.fixture
def partial_location(db, clock):
    location = location_make("loc-partial", "Partial Plumbing", tz="Europe/London")
    fill_location(location, posts=False, demographics=False)
    return location


@pytest.fixture
def empty_location(db, clock):
    return location_make("loc-empty", "Empty Eats", tz="UTC")


def report_make(location=None, *, campaign: str = "", **fields) -> Report:
    return Report.objects.create(name=fields.pop("name", "Monthly report"), location=location, campaign=campaign,
                                 period=fields.pop("period", Report.Period.LAST_MONTH),
                                 sections=fields.pop("sections", ["kpis", "charts", "demographics", "posts",
                                                                  "scorecard", "note"]),
                                 note=fields.pop("note", "Strong month for Spring Sale."), **fields)






def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (300, 120), colour=(200, 40, 40)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def worker(django_capture_on_commit_callbacks):
    """`with worker():` runs what the block enqueued once it ends, as the worker would after the request's
    commit: django-q2 runs in sync mode under the test settings, so `async_task` calls the task itself."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
