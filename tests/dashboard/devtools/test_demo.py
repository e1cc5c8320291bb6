"""`make run`'s start (devstack): the sandbox's agency is connected, and connected again once the sandbox
has restarted (it keeps its tokens in memory), but never against an admin's choice."""

from __future__ import annotations

from dashboard.devtools.demo import sandbox_agency_ensure
from integrations.models import Connection, SyncRun
from integrations.sync.services import refresh_location_enqueue
from tests.integrations.sync import conftest as sync_fixtures

# The sync tests' fixtures: the sandbox's agency connected through OAuth, and its first location.
agency = sync_fixtures.agency
location = sync_fixtures.location

REDIRECT = "http://testserver/connections/oauth/callback/"


def refreshed(location) -> SyncRun:
    run = refresh_location_enqueue(location, kinds=[SyncRun.Kind.TAGS])
    run.refresh_from_db()
    return run


def test_the_agency_is_connected_when_nothing_is(hl, db):
    assert sandbox_agency_ensure(hl, redirect_uri=REDIRECT) == "connected"
    assert Connection.objects.get().status == Connection.Status.ACTIVE


def test_after_a_sandbox_restart_the_agency_is_reconnected_and_syncs_again(hl, agency, location):
    hl.reset()  # a new sandbox process: the same seed, none of the tokens it issued before
    assert refreshed(location).status == SyncRun.Status.FAILED
    agency.refresh_from_db()
    assert agency.status == Connection.Status.NEEDS_RECONNECT
    assert sandbox_agency_ensure(hl, redirect_uri=REDIRECT) == "reconnected"
    assert list(Connection.objects.values_list("pk", "status")) == [(agency.pk, Connection.Status.ACTIVE)]
    assert refreshed(location).status == SyncRun.Status.SUCCEEDED


def test_a_disconnected_agency_or_another_connection_is_left_alone(hl, agency):
    Connection.objects.filter(pk=agency.pk).update(status=Connection.Status.DISCONNECTED)
    assert sandbox_agency_ensure(hl, redirect_uri=REDIRECT) is None
    assert Connection.objects.get().status == Connection.Status.DISCONNECTED
    Connection.objects.all().delete()
    Connection.objects.create(name="Bakery PIT", kind=Connection.Kind.PRIVATE_TOKEN, location_id="LOCb")
    assert sandbox_agency_ensure(hl, redirect_uri=REDIRECT) is None
    assert Connection.objects.count() == 1
