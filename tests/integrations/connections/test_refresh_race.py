"""Eight workers need a fresh token at once; a process dies between HighLevel's answer and the save."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection as db_connection
from django.utils import timezone

from integrations import crypto
from integrations.connections.tokens import ConnectionCredentials, ConnectionUnusable, connection_refresh, save_grant
from integrations.highlevel.parsing import parse_token_grant
from integrations.models import Connection, Location
from tests.support.subprocess_env import ROOT, child_env

WORKERS = 8


def oauth_location(hl) -> Connection:
    tokens = hl.oauth_tokens(f"location:{hl.location_ids()[0]}")
    connection = Connection.objects.create(name="Race", kind=Connection.Kind.OAUTH_LOCATION,
                                           location_id=tokens["locationId"], company_id=tokens["companyId"])
    Location.objects.create(location_id=tokens["locationId"], connection=connection, name="Race location")
    save_grant(connection, parse_token_grant(tokens))
    # Everyone now sees the token as about to expire.
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now() + timedelta(seconds=30))
    return Connection.objects.get(pk=connection.pk)


@pytest.mark.django_db(transaction=True)
def test_eight_workers_needing_a_fresh_token_cause_exactly_one_refresh(hl):
    connection = oauth_location(hl)
    hl.reset_stats()
    barrier = threading.Barrier(WORKERS)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            tokens.append(ConnectionCredentials(connection.pk).token())
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    stats = hl.stats()
    print(f"\nrefresh race: workers={WORKERS} refresh_calls={stats['token_grants'].get('refresh_token', 0)} "
          f"reuse={stats['refresh_token_reuse']} distinct_tokens={len(set(tokens))} errors={len(errors)}")
    assert not errors, errors
    assert stats["token_grants"].get("refresh_token", 0) == 1
    assert stats["refresh_token_reuse"] == 0
    assert len(tokens) == WORKERS and len(set(tokens)) == 1
    # No refresh token was lost: the saved one works for the next refresh.
    refreshed = connection_refresh(connection_id=connection.pk, force=True)
    assert refreshed.status == Connection.Status.ACTIVE
    assert hl.stats()["token_grants"]["refresh_token"] == 2


CRASH_SCRIPT = """
import os, signal, django
django.setup()
from integrations.connections import tokens
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)   # HighLevel answered; the new pair is never saved
tokens.save_grant = die
tokens.connection_refresh(connection_id={pk}, force=True)
"""


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_between_the_answer_and_the_save_leaves_a_clear_reconnect(hl, admin_http):
    connection = oauth_location(hl)
    hl.reset_stats()
    result = subprocess.run([sys.executable, "-c", CRASH_SCRIPT.format(pk=connection.pk)], cwd=ROOT,
                            env=child_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == -9, result.stderr
    assert hl.stats()["token_grants"]["refresh_token"] == 1  # HighLevel rotated the pair...
    connection.refresh_from_db()
    assert connection.refresh_lease_until is not None  # ...and the dead process still holds the lease
    assert connection.status == Connection.Status.ACTIVE

    lease_ran_out = time_machine.travel(timezone.now() + timedelta(seconds=61))
    with lease_ran_out, pytest.raises(ConnectionUnusable, match="Reconnect"):
        connection_refresh(connection_id=connection.pk, force=True)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert connection.refresh_lease_until is None
    page = admin_http.get(f"/connections/{connection.pk}/").content.decode()
    assert "Needs reconnect" in page
    assert "already used by a process that stopped before saving the new one" in page
    assert "Reconnect" in page
    # the old refresh token is still encrypted at rest, never in clear
    assert crypto.decrypt(connection.refresh_token_enc).startswith("sbxrt_")
