"""The fault matrix (issue 10): each case injects one fault against the live sandbox (or the database, the
broker, a destination), checks that the system comes back, and fills one row of the table printed at the end
of the session: rows lost, duplicates, refresh tokens lost, and the time until healthy again (measured wall
time, or simulated when the clock is travelled). Cases that an existing test already proves call that test's
body and measure the matrix's columns afterwards; those and the long cases are `slow` (`make faults`).

    .venv/bin/pytest -s tests/faults            # the fast cases
    make faults                                 # every case (and the other slow tests)
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from dashboard.devtools.demo import sandbox_agency_connect
from integrations.connections.tokens import connection_refresh
from integrations.delivery import sending
from integrations.models import Connection, Location, SyncRun, Tag
from integrations.models.delivery import Delivery
from integrations.sync.services import refresh_location_enqueue
from integrations.sync.sweep import QUEUED_LOST_AFTER, sync_runs_sweep
from tests.faults.checks import duplicates, mirror_differences, rows_lost

pytestmark = [pytest.mark.faults, pytest.mark.django_db]
SLOW = pytest.mark.slow
TRANSACTIONAL = pytest.mark.django_db(transaction=True)
REDIRECT = "http://testserver/connections/oauth/callback/"


# --- the matrix's columns ----------------------------------------------------------------------------
def tokens_lost(hl) -> int:
    """Connections whose stored refresh token no longer gives a fresh pair (a reuse the sandbox counted is the
    symptom of that, not a second loss)."""
    lost = 0
    for connection in Connection.objects.exclude(refresh_token_enc=""):
        try:
            refreshed = connection_refresh(connection_id=connection.pk, force=True)
        except Exception:  # counted: this connection's refresh token is gone
            lost += 1
            continue
        lost += refreshed.status != Connection.Status.ACTIVE
    return lost


def measure(row, hl, locations) -> None:
    row.rows_lost = rows_lost(hl, locations)
    row.duplicates = duplicates()
    row.tokens_lost = tokens_lost(hl)


def run_healthy(row, run: SyncRun) -> None:
    """From the refresh being asked for to it succeeding; simulated when it waited out a backoff."""
    run.refresh_from_db()
    row.healthy_seconds = (run.finished_at - run.created_at).total_seconds()
    row.clock = "simulated" if run.attempts > 1 else "real"


def tags_sync(location: Location) -> SyncRun:
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    return run


# --- cases an existing test proves: run its body, then measure ------------------------------------------
def sync_fault(fault: dict, injected: str):
    def case(request, row):
        from tests.integrations.sync import test_faults_and_statistics as proven

        hl, location = request.getfixturevalue("hl"), request.getfixturevalue("location")
        proven.test_faults_mid_sync_lose_nothing_and_remove_nothing(hl, location, request.getfixturevalue("settings"),
                                                                    dict(fault))
        row.injected = injected
        row.checked = "tags refresh succeeds after backoff; mirror ids = sandbox; none marked removed"
        run_healthy(row, SyncRun.objects.filter(location=location, kind="tags").order_by("-pk").first())
        measure(row, hl, [location])
    return case


def killed_mid_sync(request, row):
    from tests.integrations.sync import test_killed_worker as proven

    hl, location = request.getfixturevalue("hl"), request.getfixturevalue("location")
    proven.test_a_worker_killed_mid_run_leaves_the_next_run_to_finish_with_nothing_duplicated(hl, location)
    row.injected = "SIGKILL to a qcluster mid tags run (400 ms latency)"
    row.checked = "run taken over after its lease, succeeds on attempt 2; details = sandbox"
    run = SyncRun.objects.filter(location=location, kind="tags").order_by("-pk").first()
    row.healthy_seconds, row.clock = (run.finished_at - run.started_at).total_seconds(), "simulated"
    row.note = "(the lease)"
    measure(row, hl, [location])


def refresh_reuse(request, row):
    from tests.integrations.connections import test_refresh_race as proven

    hl = request.getfixturevalue("hl")
    started = time.monotonic()
    proven.test_eight_workers_needing_a_fresh_token_cause_exactly_one_refresh(hl)
    row.injected = f"{proven.WORKERS} threads needing a fresh token at once"
    row.checked = "exactly 1 refresh grant, 0 reuse, one token shared, next refresh works"
    row.healthy_seconds = time.monotonic() - started
    measure(row, hl, [])


def killed_mid_refresh(request, row):
    from tests.integrations.connections import test_refresh_race as proven

    hl = request.getfixturevalue("hl")
    proven.test_a_process_killed_between_the_answer_and_the_save_leaves_a_clear_reconnect(
        hl, request.getfixturevalue("admin_http"))
    row.injected = "SIGKILL between HighLevel's token answer and the save"
    row.checked = "lease runs out, then Needs reconnect with the reason shown; no retry loop"
    row.note = "an admin reconnects: the rotated pair died with the process"
    measure(row, hl, [])
    row.healthy_seconds = None


# --- cases of their own ------------------------------------------------------------------------------
def expired_tokens(request, row):
    hl, location = request.getfixturevalue("hl"), request.getfixturevalue("location")
    assert tags_sync(location).status == SyncRun.Status.SUCCEEDED
    hl.reset_stats()
    started = time.monotonic()
    expired = hl.expire_tokens(all=True)
    run = tags_sync(location)
    row.healthy_seconds = time.monotonic() - started
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    grants = hl.stats()["token_grants"]
    row.injected = f"every access token expired at HighLevel ({expired} tokens)"
    row.checked = f"next tags refresh succeeds (grants {grants}); mirror = sandbox field by field"
    assert mirror_differences(hl, location) == []
    measure(row, hl, [location])


def revoked_tokens(request, row):
    hl, location = request.getfixturevalue("hl"), request.getfixturevalue("location")
    assert tags_sync(location).status == SyncRun.Status.SUCCEEDED
    before = Tag.objects.filter(location=location, removed_at__isnull=True).count()
    started = time.monotonic()
    revoked = hl.revoke_tokens(all=True)
    run = tags_sync(location)
    connection = Connection.objects.get(pk=location.connection_id)
    assert run.status == SyncRun.Status.FAILED and connection.status == Connection.Status.NEEDS_RECONNECT
    assert Tag.objects.filter(location=location, removed_at__isnull=True).count() == before
    sandbox_agency_connect(hl, redirect_uri=REDIRECT)  # the admin reconnects
    location.refresh_from_db()
    again = tags_sync(location)
    row.healthy_seconds = time.monotonic() - started
    row.note = "(incl. the reconnect)"
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    row.injected = f"app's tokens revoked at HighLevel ({revoked}), refresh tokens spent"
    row.checked = "run fails once, connection Needs reconnect, no tag removed; after reconnect mirror = sandbox"
    assert mirror_differences(hl, location) == []
    row.rows_lost, row.duplicates = rows_lost(hl, [location]), duplicates()
    # HighLevel spent them, not us: count only a refresh token we lose after the reconnect.
    row.tokens_lost = sum(connection_refresh(connection_id=c.pk, force=True).status != Connection.Status.ACTIVE
                          for c in Connection.objects.exclude(refresh_token_enc=""))


def _hold_database_lock(held: threading.Event, release_after: float) -> None:
    table = Tag._meta.db_table
    try:
        if db_connection.vendor == "sqlite":
            locker = sqlite3.connect(db_connection.settings_dict["NAME"], isolation_level=None, timeout=30)
            locker.execute("BEGIN EXCLUSIVE")
            held.set()
            time.sleep(release_after)  # the fault: the lock is held this long
            locker.execute("COMMIT")
            locker.close()
        else:
            with transaction.atomic(), db_connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                held.set()
                time.sleep(release_after)  # the fault: the lock is held this long
    finally:
        held.set()
        db_connection.close()


LOCK_SECONDS = 1.5


def database_locked(request, row):
    hl, location = request.getfixturevalue("hl"), request.getfixturevalue("location")
    held = threading.Event()
    locker = threading.Thread(target=_hold_database_lock, args=(held, LOCK_SECONDS))
    started = time.monotonic()
    locker.start()
    held.wait(10)
    run = tags_sync(location)
    row.healthy_seconds = time.monotonic() - started
    locker.join(30)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    what = "BEGIN EXCLUSIVE in another connection" if db_connection.vendor == "sqlite" else \
        "LOCK TABLE integrations_tag ACCESS EXCLUSIVE"
    row.injected = f"{what}, held {LOCK_SECONDS} s while a tags refresh runs"
    row.checked = "the refresh waits for the lock and succeeds; mirror = sandbox"
    assert mirror_differences(hl, location) == []
    measure(row, hl, [location])


def broker_restarted(request, row):
    if not settings.REDIS_URL:
        pytest.skip("the ORM broker keeps its queue in the database: no broker to restart")
    import redis

    from tests.scale.workers import own_cluster, worker_processes

    hl, location = request.getfixturevalue("hl"), request.getfixturevalue("location")
    with own_cluster() as env:
        lost = refresh_location_enqueue(location, kinds=["tags"])
        redis.Redis.from_url(settings.REDIS_URL).flushdb()  # the broker came back empty
        started = time.monotonic()
        with worker_processes(1, env):
            # What the sync sweep's schedule does every 5 minutes, once the lost message is overdue:
            with time_machine.travel(timezone.now() + QUEUED_LOST_AFTER + timedelta(seconds=1)):
                assert sync_runs_sweep()["enqueued"] == 1
            deadline = time.monotonic() + 60
            while not SyncRun.objects.filter(pk=lost.pk, status=SyncRun.Status.SUCCEEDED).exists():
                assert time.monotonic() < deadline, "the lost run never finished"
                time.sleep(0.1)  # polling the worker's progress in the database
        row.healthy_seconds = time.monotonic() - started
    lost.refresh_from_db()
    row.injected = "Redis FLUSHDB between enqueue and pickup (queue lost)"
    row.checked = f"the sync sweep hands the lost run out again; it is {lost.status}; mirror = sandbox"
    row.note = "+ up to 10 min (lost after 5 min, sweep every 5 min)"
    assert mirror_differences(hl, location) == []
    measure(row, hl, [location])


def destination_down(request, row):
    make_destination, make_event = request.getfixturevalue("make_destination"), request.getfixturevalue("make_event")
    receiver = request.getfixturevalue("receiver")
    destination = make_destination("/status/503")
    down_for = timedelta(hours=3)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        down_since = timezone.now()
        for n in range(5):
            make_event("tag.created", tag_id=f"tag{n}")
        sending.deliveries_sweep()

        def next_retry_at():
            pending = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__gt=timezone.now())
            return pending.aggregate(m=Min("next_attempt_at"))["m"]

        def retry_at(due) -> None:
            """Travel to a retry's time (as its schedule would fire) and sweep."""
            if due is not None:
                clock.move_to(due + timedelta(seconds=1))
            sending.deliveries_sweep()

        while (due := next_retry_at()) is not None and due < down_since + down_for:
            retry_at(due)
        clock.move_to(down_since + down_for)
        destination.url = destination.url.replace("/status/503", "/")
        destination.save()
        back_up = timezone.now()
        for _ in range(20):
            if not Delivery.objects.filter(status=Delivery.Status.PENDING).exists():
                break
            retry_at(next_retry_at())
        row.healthy_seconds, row.clock = (timezone.now() - back_up).total_seconds(), "simulated"
    delivered = [m for m in receiver.receiver.received() if m["path"] == "/"]
    attempts = max(Delivery.objects.values_list("attempts", flat=True))
    destination.refresh_from_db()
    row.injected = "destination answers 503 for 3 h (5 events)"
    row.checked = (f"retry schedule, all delivered after it is back (attempts {attempts}), "
                   f"destination active={destination.is_active}")
    row.note = "after it is back (next retry)"
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 5
    row.rows_lost = 5 - len({m["webhook_id"] for m in delivered})
    row.duplicates = len(delivered) - len({m["webhook_id"] for m in delivered})
    row.tokens_lost = 0


CASES = {
    "429-storm": (sync_fault({"rate_limit_storm": 3}, "3 x 429 (rate-limit storm) on the location"), [SLOW]),
    "5xx-burst": (sync_fault({"error_burst": 3, "error_status": 500}, "burst of 3 x 500"), [SLOW]),
    "timeouts": (sync_fault({"timeout_burst": 2}, "2 requests hang past the read timeout"), [SLOW]),
    "malformed-bodies": (sync_fault({"malformed_rate": 0.3, "seed": 7}, "30% malformed JSON bodies"), [SLOW]),
    "truncated-bodies": (sync_fault({"truncated_rate": 0.3, "seed": 7}, "30% truncated bodies"), [SLOW]),
    "expired-tokens": (expired_tokens, []),
    "revoked-tokens": (revoked_tokens, []),
    "refresh-token-reuse": (refresh_reuse, [SLOW, TRANSACTIONAL]),
    "sigkill-mid-sync": (killed_mid_sync, [SLOW, TRANSACTIONAL]),
    "sigkill-mid-refresh": (killed_mid_refresh, [SLOW, TRANSACTIONAL]),
    "database-locked": (database_locked, [TRANSACTIONAL]),
    "broker-restarted": (broker_restarted, [SLOW, TRANSACTIONAL]),
    "destination-down-3h": (destination_down, []),
}


@pytest.mark.parametrize("name", [pytest.param(name, marks=marks, id=name) for name, (_, marks) in CASES.items()])
def test_fault(name, request, matrix_row):
    CASES[name][0](request, matrix_row)
    assert (matrix_row.rows_lost, matrix_row.duplicates) == (0, 0), matrix_row.line()
    if name != "sigkill-mid-refresh":  # there the rotated pair dies with the process, by construction
        assert matrix_row.tokens_lost == 0, matrix_row.line()
