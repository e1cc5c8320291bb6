"""A sync unit keeps its call records in memory (BufferedRecorder) and writes them with its progress: every
request the unit made is recorded once it ends, whether it succeeded, failed or lost its lease."""

from __future__ import annotations

import pytest

from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import NotFound
from integrations.models import ApiCall, SyncRun
from integrations.sync import runs
from integrations.sync.services import refresh_location_enqueue


def requests_for(hl, location) -> int:
    return hl.stats()["resources"][location.location_id]["count"]


@pytest.fixture
def quiet(hl, location):
    hl.reset_stats()
    return hl


def test_every_request_of_a_unit_is_recorded_when_it_ends(quiet, location):
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    recorded = ApiCall.objects.filter(run_id=run.pk, resource_id=location.location_id)
    assert recorded.count() == requests_for(quiet, location) > 0


def test_a_failed_unit_records_its_requests_too(quiet, location, monkeypatch):
    real = HighLevelClient.get_tag_details
    calls = [0]

    def fail_second(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:
            raise NotFound("gone")  # a request's failure after some answers: not retried
        return real(self, *args, **kwargs)

    monkeypatch.setattr(HighLevelClient, "get_tag_details", fail_second)
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert ApiCall.objects.filter(run_id=run.pk, resource_id=location.location_id).count() == \
        requests_for(quiet, location) > 0


def test_a_unit_that_loses_its_lease_still_writes_its_records(quiet, location, monkeypatch):
    monkeypatch.setattr(runs, "lease_renew", lambda **kwargs: False)  # another worker took the location over
    monkeypatch.setattr(runs, "FLUSH_EVERY_SECONDS", 0.0)  # the first progress save finds out
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert run.status != SyncRun.Status.SUCCEEDED  # it stopped when its progress save found the lease gone
    assert ApiCall.objects.filter(run_id=run.pk, resource_id=location.location_id).count() == \
        requests_for(quiet, location) > 0
