"""CSV exports: streamed, the current filters applied, formula cells escaped, the EXPORT permission."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission

from dashboard.exports import csv_cell, csv_response
from tests.dashboard.browsing_factories import accounts_make, location_make, statistics_make, tag_make

pytestmark = pytest.mark.django_db


def read(response) -> list[list[str]]:
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(("value", "expected"), [
    ("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-cmd", "'-cmd"), ("@x", "'@x"), ("plain", "plain"),
    (None, ""), (12, 12),
])
def test_formula_cells_are_escaped(value, expected):
    assert csv_cell(value) == expected


@pytest.mark.parametrize("value", [
    "\t=1+1", "\r=1+1", "\uff1dSUM(A1)", "\uff0b1", "\uff0dcmd", "\uff20SUM(A1)", "\ufe66x", "\ufe62x", "\ufe63x",
])
def test_cells_starting_with_tab_return_or_a_full_width_formula_sign_are_escaped(value):
    assert csv_cell(value) == "'" + value


def test_every_exported_cell_is_quoted_as_owasp_advises():
    response = csv_response([["a", 'say "hi"', 3]], filename="x.csv")
    assert b"".join(response.streaming_content) == b'"a","say ""hi""","3"\r\n'


def test_the_tag_export_follows_the_filters_and_escapes(marketer_http):
    location = location_make("loc-a", "Acme")
    tag_make(location, "=HYPERLINK(evil)", tag_id="t1")
    tag_make(location, "@mention", tag_id="t2")
    tag_make(location, "kept out", tag_id="t3")
    response = marketer_http.get("/api/v1/locations/loc-a/tags/", {"format": "csv", "q": "e", "sort": "-name"})
    rows = read(response)
    assert rows[0] == ["id", "name", "created_at", "updated_at", "first_seen_at", "removed_at", "is_new"]
    assert [r[1] for r in rows[1:]] == ["kept out", "'@mention", "'=HYPERLINK(evil)"]
    assert 'filename="tags-loc-a-' in response["Content-Disposition"]


def test_the_statistics_export_has_daily_rows_per_platform(marketer_http):
    location = location_make("loc-a", "Acme")
    statistics_make(location, end=date(2026, 3, 31), days=10, accounts=accounts_make(location, platforms=("google",)),
                    value=3.0)
    with time_machine.travel(datetime(2026, 3, 31, 18, 0, tzinfo=UTC), tick=False):
        rows = read(marketer_http.get("/api/v1/locations/loc-a/statistics/", {"range": "7d", "format": "csv"}))
    assert rows[0][:3] == ["date", "platform", "impressions"] and len(rows) == 1 + 7 * 2
    assert rows[1][:3] == ["2026-03-25", "all", "3"] and rows[2][:3] == ["2026-03-25", "google", "3"]


def test_exports_need_the_export_permission(make_user, client):
    location_make("loc-a", "Acme")
    user = make_user("viewer@example.com", "Marketer")
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="browse"))
    client.force_login(user)
    assert client.get("/api/v1/locations/loc-a/tags/").status_code == 200
    refused = client.get("/api/v1/locations/loc-a/tags/", {"format": "csv"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/locations/loc-a/statistics/", {"format": "csv"}).status_code == 403
    assert "Export CSV" not in client.get("/locations/loc-a/tags/").content.decode()
    assert client.get("/api/v1/locations/loc-a/tags/", {"format": "xml"}).status_code == 400
