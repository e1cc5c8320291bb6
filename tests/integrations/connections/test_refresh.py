"""The rotation-safe refresh, with HighLevel faked by `responses`."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
import time_machine
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations import crypto
from integrations.connections.tokens import (
    TOKEN_RECHECK,
    ConnectionCredentials,
    ConnectionUnusable,
    connection_refresh,
    refresh_expiring_tokens,
    save_grant,
)
from integrations.highlevel.parsing import parse_token_grant
from integrations.models import AuditEntry, Connection, Event
from tests.integrations.connections.factories import oauth_connection, token_answer

BASE = "https://hl.test"
TOKEN_URL = f"{BASE}/oauth/token"


@pytest.fixture(autouse=True)
def _highlevel(settings):
    settings.HIGHLEVEL_API_BASE_URL = BASE
    settings.HIGHLEVEL_CLIENT_ID = "tagscope-app"
    settings.HIGHLEVEL_CLIENT_SECRET = "app-secret-value"
    settings.HIGHLEVEL_MAX_RETRIES = 0


@pytest.mark.django_db
@responses.activate
def test_a_refresh_saves_both_new_tokens_encrypted_and_bumps_the_version():
    connection = oauth_connection(expires_in=60)
    responses.post(TOKEN_URL, json=token_answer())
    refreshed = connection_refresh(connection_id=connection.pk, reason="test")
    form = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["sbxrt_refresh_one"]
    assert refreshed.token_version == connection.token_version + 1
    assert crypto.decrypt(refreshed.access_token_enc) == "sbxat_access_two"
    assert crypto.decrypt(refreshed.refresh_token_enc) == "sbxrt_refresh_two"
    assert "sbxrt_refresh_two" not in refreshed.refresh_token_enc
    assert refreshed.token_expires_at > timezone.now() + timedelta(hours=23)
    assert refreshed.refresh_lease_until is None
    assert AuditEntry.objects.filter(connection=connection, action=AuditEntry.Action.REFRESHED).count() == 1


@pytest.mark.django_db
@responses.activate
def test_a_fresh_token_is_not_refreshed():
    connection = oauth_connection(expires_in=3600)
    assert connection_refresh(connection_id=connection.pk).token_version == connection.token_version
    assert len(responses.calls) == 0


@pytest.mark.django_db
@responses.activate
def test_invalid_grant_marks_needs_reconnect_once_and_stops_further_attempts():
    connection = oauth_connection(expires_in=60)
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "spent"})
    with pytest.raises(ConnectionUnusable, match="Reconnect"):
        connection_refresh(connection_id=connection.pk, force=True)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "refused the stored refresh token" in connection.last_error
    assert Event.objects.filter(type=Event.Type.CONNECTION_NEEDS_RECONNECT).count() == 1
    with pytest.raises(ConnectionUnusable):
        connection_refresh(connection_id=connection.pk, force=True)
    assert len(responses.calls) == 1  # no second attempt reached HighLevel


@pytest.mark.django_db
@responses.activate
def test_a_transient_failure_keeps_the_old_tokens_and_releases_the_lease():
    connection = oauth_connection(expires_in=60)
    responses.post(TOKEN_URL, status=503, json={"statusCode": 503, "message": "down"})
    with pytest.raises(Exception, match="down"):
        connection_refresh(connection_id=connection.pk, force=True)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE
    assert crypto.decrypt(connection.refresh_token_enc) == "sbxrt_refresh_one"
    assert connection.refresh_lease_until is None
    assert "Token refresh failed" in connection.last_error


@pytest.mark.django_db
@responses.activate
def test_a_process_that_waits_uses_the_token_the_lease_holder_saved():
    connection = oauth_connection(expires_in=60)
    Connection.objects.filter(pk=connection.pk).update(
        refresh_lease_until=timezone.now() + timedelta(seconds=60), refresh_lease_owner="other-process"
    )

    def other_process_finishes(_seconds):
        save_grant(Connection.objects.get(pk=connection.pk), parse_token_grant(token_answer(access="sbxat_theirs")))

    refreshed = connection_refresh(connection_id=connection.pk, sleep=other_process_finishes)
    assert len(responses.calls) == 0
    assert crypto.decrypt(refreshed.access_token_enc) == "sbxat_theirs"


@pytest.mark.django_db
@responses.activate
def test_an_expired_lease_of_a_dead_process_is_taken_over():
    connection = oauth_connection(expires_in=60)
    Connection.objects.filter(pk=connection.pk).update(
        refresh_lease_until=timezone.now() - timedelta(seconds=1), refresh_lease_owner="dead-process"
    )
    responses.post(TOKEN_URL, json=token_answer())
    assert crypto.decrypt(connection_refresh(connection_id=connection.pk).access_token_enc) == "sbxat_access_two"


@pytest.mark.django_db
@responses.activate
def test_a_401_refreshes_once_then_the_retry_carries_the_new_token():
    connection = oauth_connection(expires_in=3600)
    tags_url = f"{BASE}/social-media-posting/LOC123456/accounts"
    responses.get(tags_url, status=401, json={"statusCode": 401, "message": "Invalid token: access token is invalid"})
    responses.get(tags_url, json={"success": True, "results": {"accounts": [], "groups": []}})
    responses.post(TOKEN_URL, json=token_answer())
    from integrations.connections.tokens import client_for_location

    client_for_location(connection.locations.get()).list_accounts("LOC123456")
    auth_headers = [c.request.headers.get("Authorization") for c in responses.calls if "accounts" in c.request.url]
    assert auth_headers == ["Bearer sbxat_access_one", "Bearer sbxat_access_two"]
    assert sum(1 for c in responses.calls if c.request.url == TOKEN_URL) == 1


@pytest.mark.django_db
@responses.activate
def test_a_rejected_private_token_marks_the_connection_for_rotation():
    connection = Connection.objects.create(
        name="PIT", kind=Connection.Kind.PRIVATE_TOKEN, location_id="LOCPIT001",
        access_token_enc=crypto.encrypt("pit-aaaaaaaa-bbbb"),
    )
    ConnectionCredentials(connection.pk).on_unauthorized()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "Rotate it" in connection.last_error


@pytest.mark.django_db
@responses.activate
def test_the_schedule_refreshes_only_tokens_about_to_expire():
    soon = oauth_connection(expires_in=600, location_id="LOCSOON01")
    later = oauth_connection(expires_in=20000, location_id="LOCLATE01")
    Connection.objects.filter(pk=later.pk).update(company_id="C2")
    responses.post(TOKEN_URL, json=token_answer())
    assert refresh_expiring_tokens() == 1
    assert Connection.objects.get(pk=soon.pk).token_version == soon.token_version + 1
    assert Connection.objects.get(pk=later.pk).token_version == later.token_version


@pytest.mark.django_db
def test_a_client_reuses_the_token_it_read_for_a_few_seconds_then_reads_it_again():
    connection = oauth_connection(expires_in=3600)
    credentials = ConnectionCredentials(connection.pk)
    first = credentials.token()
    Connection.objects.filter(pk=connection.pk).update(access_token_enc=crypto.encrypt("sbxat_rotated"))
    with CaptureQueriesContext(db) as queries:
        assert credentials.token() == first  # a sync's next requests: no query, no decryption
    assert len(queries) == 0
    with time_machine.travel(timezone.now() + TOKEN_RECHECK + timedelta(seconds=1)):
        assert credentials.token() == "sbxat_rotated"  # a rotation reaches a running client this late


def test_when_the_recheck_falls_due_one_thread_reads_the_token_and_the_others_send_the_held_one():
    credentials = ConnectionCredentials(1)
    reads, reading, release = [], threading.Event(), threading.Event()

    def read_token(now):  # the database read, held open until the test has seen the other threads pass
        reads.append(now)
        reading.set()
        assert release.wait(5)
        return f"token-{len(reads)}", now + timedelta(hours=1)

    credentials._read_token = read_token
    release.set()
    assert credentials.token() == "token-1"
    release.clear()
    with time_machine.travel(timezone.now() + TOKEN_RECHECK + timedelta(seconds=1)):
        with ThreadPoolExecutor(max_workers=1) as reader:
            rereading = reader.submit(credentials.token)
            assert reading.wait(5)
            with ThreadPoolExecutor(max_workers=8) as lanes:  # the unit's lanes, meanwhile: no wait, no read
                assert list(lanes.map(lambda _: credentials.token(), range(8))) == ["token-1"] * 8
            release.set()
            assert rereading.result(timeout=5) == "token-2"
        assert credentials.token() == "token-2" and len(reads) == 2


def test_without_a_good_held_token_threads_wait_for_one_read_and_share_it():
    credentials = ConnectionCredentials(1)
    reads, release = [], threading.Event()

    def read_token(now):
        reads.append(now)
        assert release.wait(5)
        return "token-1", now + timedelta(hours=1)

    credentials._read_token = read_token
    with ThreadPoolExecutor(max_workers=6) as lanes:
        tokens = [lanes.submit(credentials.token) for _ in range(6)]
        release.set()
        assert [t.result(timeout=5) for t in tokens] == ["token-1"] * 6
    assert len(reads) == 1


@pytest.mark.django_db
@responses.activate
def test_a_401_drops_the_held_token():
    connection = oauth_connection(expires_in=3600)
    credentials = ConnectionCredentials(connection.pk)
    assert credentials.token() == crypto.decrypt(connection.access_token_enc)
    responses.post(TOKEN_URL, json=token_answer())
    credentials.on_unauthorized()
    assert credentials.token() == "sbxat_access_two"


@pytest.mark.django_db
def test_the_plain_sql_token_read_answers_what_the_orm_reads():
    from integrations.connections.tokens import TOKEN_COLUMNS, _token_row
    from integrations.db import db_datetime
    from integrations.models import Location

    agency = oauth_connection(kind=Connection.Kind.OAUTH_AGENCY, expires_in=3600)
    Connection.objects.filter(pk=agency.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    minted_until = timezone.now() + timedelta(hours=2)
    location = Location.objects.create(location_id="LOCAGENCY1", connection=agency, name="Sub-account",
                                       token_enc=crypto.encrypt("sbxat_minted"), token_expires_at=minted_until)
    orm = Location.objects.filter(pk=location.pk).values_list(
        *(f"connection__{name}" for name in TOKEN_COLUMNS), "token_enc", "token_expires_at").get()
    row = _token_row(agency.pk, location.pk)
    assert [db_datetime(v) if n in (2, 5, 7) else v for n, v in enumerate(row)] == list(orm)
    assert db_datetime(row[7]) == minted_until
    plain = oauth_connection(location_id="LOCPLAIN01")
    row = _token_row(plain.pk, None)
    assert [db_datetime(v) if n in (2, 5) else v for n, v in enumerate(row)] == list(
        Connection.objects.filter(pk=plain.pk).values_list(*TOKEN_COLUMNS).get())
    assert _token_row(plain.pk, location.pk) is None  # the location belongs to another connection
    credentials = ConnectionCredentials(agency.pk, location=location)
    assert credentials.token() == "sbxat_minted"


def test_db_datetime_reads_what_each_database_gives_as_the_orm_would():
    from datetime import UTC, datetime

    from integrations.db import db_datetime

    aware = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert db_datetime(None) is None
    assert db_datetime(aware) == aware  # PostgreSQL
    assert db_datetime(aware.replace(tzinfo=None)) == aware  # SQLite's converter: naive UTC
    assert db_datetime("2025-03-01 12:30:15.123456") == aware  # SQLite's text
    assert db_datetime("2025-03-01 12:30:15") == aware.replace(microsecond=0)
