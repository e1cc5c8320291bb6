"""Call records: one ApiCall row per attempt, never a secret; old rows pruned."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import pytest
import requests
import responses

from integrations.clients.recorders import BufferedRecorder, DatabaseRecorder
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.config import ClientConfig
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
from integrations.highlevel.recording import CallRecord
from integrations.models import ApiCall

BASE = "https://hl.test"
TOKEN = "pit-1234abcd-5678-90ef-aaaa-bbbbccccdddd"


def record(**overrides) -> CallRecord:
    fields = {"at": datetime(2025, 3, 1, tzinfo=UTC), "method": "GET",
              "endpoint": "/social-media-posting/{locationId}/tags", "resource_id": "loc1", "status": 200,
              "latency_ms": 12, "attempt": 1}
    fields.update(overrides)
    return CallRecord(**fields)


def test_the_database_recorder_writes_one_row(db):
    DatabaseRecorder().record(record(trace_id="tr-1", rate_limit_remaining=99, daily_remaining=5, daily_limit=10,
                                     connection_id=3, run_id=4, error=""))
    row = ApiCall.objects.get()
    assert (row.endpoint, row.resource_id, row.status, row.trace_id, row.rate_limit_remaining) == (
        "/social-media-posting/{locationId}/tags", "loc1", 200, "tr-1", 99)
    assert (row.daily_remaining, row.daily_limit, row.connection_id, row.run_id) == (5, 10, 3, 4)


@responses.activate
def test_a_client_records_each_attempt_and_no_secret_reaches_the_table_or_the_log(db, caplog):
    clock_now = [1_740_000_000.0]

    def sleep(seconds):
        clock_now[0] += seconds

    config = ClientConfig(base_url=BASE, max_retries=2, client_id="app1-x", client_secret="very-secret-client-secret")
    client = HighLevelClient(
        config, lambda: TOKEN, limiter=MemoryRateLimiter(clock=lambda: clock_now[0], sleep=sleep),
        recorder=DatabaseRecorder(), sleep=sleep, clock=lambda: clock_now[0], rng=random.Random(1),
        connection_id=7, run_id=8,
    )
    url = f"{BASE}/oauth/installedLocations"
    responses.get(url, body=requests.exceptions.ConnectionError("reset"))
    responses.get(url, json={"locations": [], "count": 0, "traceId": "tr-2"})
    with caplog.at_level(logging.DEBUG, logger="integrations.highlevel"):
        assert list(client.iter_installed_locations("co1")) == []
    rows = list(ApiCall.objects.order_by("attempt").values())
    assert [(r["attempt"], r["status"], r["error"]) for r in rows] == [(1, None, "TransportError"), (2, 200, "")]
    assert rows[1]["trace_id"] == "tr-2" and rows[0]["endpoint"] == "/oauth/installedLocations"
    assert rows[0]["resource_id"] == "co1" and rows[0]["connection_id"] == 7
    dump = repr(rows) + caplog.text
    assert TOKEN not in dump and "very-secret" not in dump and "companyId" not in dump
    assert "traceId=tr-2" in caplog.text


@pytest.mark.parametrize("buffered", [False, True])
def test_a_failing_database_is_logged_not_raised(db, monkeypatch, caplog, buffered):
    from django.db import DatabaseError

    def prepared(*args, **kwargs):  # the INSERT prepared, and the database failing when it runs
        def boom():
            raise DatabaseError("disk I/O error")
        return boom

    monkeypatch.setattr("integrations.clients.recorders.rows_insert_prepared", prepared)
    recorder = BufferedRecorder() if buffered else DatabaseRecorder()
    recorder.record(record())
    if buffered:
        assert recorder.flush() == 1
    assert "could not record 1 HighLevel call(s) to /social-media-posting/{locationId}/tags" in caplog.text


def test_the_buffered_recorder_writes_nothing_until_flushed_then_everything_in_one_statement(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    recorder = BufferedRecorder()
    for n in range(5):
        recorder.record(record(resource_id=f"loc{n}"))
    assert not ApiCall.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        assert recorder.flush() == 5
    (insert,) = [q["sql"] for q in queries]  # five rows, one statement
    assert insert.startswith(("INSERT", "COPY"))
    assert sorted(ApiCall.objects.values_list("resource_id", flat=True)) == [f"loc{n}" for n in range(5)]
    assert recorder.flush() == 0 and ApiCall.objects.count() == 5


@pytest.mark.parametrize("status", [200, 404])
def test_long_fields_are_cut_to_fit(db, status):
    DatabaseRecorder().record(record(status=status, trace_id="t" * 300, resource_id="r" * 100, error="E" * 100))
    row = ApiCall.objects.get()
    assert len(row.trace_id) == 100 and len(row.resource_id) == 64 and len(row.error) == 64
