"""Known rows for the alert and digest tests: a connection with a location, finished runs, a heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import Connection, Location, SyncRun, WorkerHeartbeat

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def connection(db) -> Connection:
    return Connection.objects.create(name="Acme agency", kind=Connection.Kind.OAUTH_AGENCY, company_id="COMP1",
                                     token_expires_at=NOW + timedelta(hours=20), connected_at=NOW - timedelta(days=3))


@pytest.fixture
def location(connection) -> Location:
    return Location.objects.create(location_id="LOCfailing01", connection=connection, name="Downtown Bakery")


@pytest.fixture
def finished_runs(location):
    """finished_runs("failed", "succeeded", ...): unit runs of `kind`, oldest first, finished before NOW."""

    def make(*statuses: str, kind: str = SyncRun.Kind.TAGS, loc: Location | None = None) -> list[SyncRun]:
        runs = []
        for n, status in enumerate(statuses):
            at = NOW - timedelta(minutes=10 * (len(statuses) - n))
            runs.append(SyncRun.objects.create(
                kind=kind, status=status, location=loc or location, connection_id=(loc or location).connection_id,
                started_at=at, finished_at=at, attempts=1,
                error="ServerError: HighLevel answered 500" if status == SyncRun.Status.FAILED else "",
                trace_ids=["trace-abc"] if status == SyncRun.Status.FAILED else [],
            ))
        return runs

    return make


@pytest.fixture
def heartbeat(db) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(name="tagscope", beat_at=NOW - timedelta(seconds=30))
