"""What admins do with connections: add a Private Integration token, test, rotate, rename, disconnect. (An
OAuth install completes in oauth_install.py, locations are kept in locations.py, keys rotate in key_rotation.py.)

Each function calls HighLevel first, then writes in a short transaction; none holds a transaction across
network I/O. Errors reach the caller as `ConnectionActionError` with a message fit for an admin's eyes
(never a token).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations import crypto
from integrations.clients import highlevel_client
from integrations.connections.audit import Actor, audit_record
from integrations.connections.errors import ConnectionActionError, explain
from integrations.connections.locations import location_details_refresh, location_upsert, schedules_follow
from integrations.connections.tokens import (
    ConnectionUnusable,
    client_for_connection,
    connection_refresh,
)
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import HighLevelError
from integrations.models import AuditEntry, Connection, Location

log = logging.getLogger(__name__)


# --- Private Integration tokens ---------------------------------------------------------------------------
def _probe_location_token(token: str, location_id: str, client: HighLevelClient | None) -> float:
    """A live call with the token alone (no stored credential); returns its latency in ms."""
    probe = client or highlevel_client(lambda: token)
    started = time.perf_counter()
    try:
        probe.list_accounts(location_id)
    except HighLevelError as exc:
        raise ConnectionActionError(f"The token did not work for location {location_id}: {explain(exc)}") from None
    return (time.perf_counter() - started) * 1000


def connection_add_private_token(
    *, name: str, location_id: str, token: str, actor: Actor, client: HighLevelClient | None = None
) -> Connection:
    """Validate a location's Private Integration token with a live call, then save it encrypted."""
    location_id, token = location_id.strip(), token.strip()
    _probe_location_token(token, location_id, client)
    now = timezone.now()
    identity = {"kind": Connection.Kind.PRIVATE_TOKEN, "company_id": "", "location_id": location_id}
    with transaction.atomic():
        connection, created = Connection.objects.get_or_create(
            **identity, defaults={"name": name or f"Location {location_id}"}
        )
        connection.name = name or connection.name
        connection.access_token_enc = crypto.encrypt(token)
        connection.refresh_token_enc = ""
        connection.token_expires_at = None
        connection.token_version += 1
        connection.status = Connection.Status.ACTIVE
        connection.connected_by = actor.user if getattr(actor.user, "is_authenticated", False) else None
        connection.connected_at = now
        connection.last_error = ""
        connection.scopes = ""
        connection.save()
        location = location_upsert(connection, location_id=location_id, name=name)
        audit_record(
            action=AuditEntry.Action.CONNECTED if created else AuditEntry.Action.ROTATED,
            connection=connection, actor=actor.user, ip_address=actor.ip_address,
            detail="Private Integration token added" if created else "Private Integration token replaced",
        )
    # Once, after the save and outside the transaction; a token made without locations.readonly is fine.
    location_details_refresh(location=location, client=client, keep_name=bool(name))
    schedules_follow()
    return connection


def connection_rotate(
    *, connection: Connection, actor: Actor, new_token: str = "", client: HighLevelClient | None = None
) -> Connection:
    """Replace a connection's token; the old one is dropped only after the new one has worked.

    Private Integration tokens: the admin pastes the new token. OAuth: a refresh now (a new pair)."""
    if connection.kind == Connection.Kind.PRIVATE_TOKEN:
        if not new_token.strip():
            raise ConnectionActionError("Paste the new Private Integration token.")
        _probe_location_token(new_token.strip(), connection.location_id, client)
        with transaction.atomic():
            Connection.objects.filter(pk=connection.pk).update(
                access_token_enc=crypto.encrypt(new_token.strip()), status=Connection.Status.ACTIVE,
                last_error="", last_error_at=None, updated_at=timezone.now(), token_version=F("token_version") + 1,
            )
            audit_record(action=AuditEntry.Action.ROTATED, connection=connection, actor=actor.user,
                         ip_address=actor.ip_address, detail="Private Integration token replaced after a live check")
        connection.refresh_from_db()
        return connection
    try:
        connection = connection_refresh(connection_id=connection.pk, force=True, client=client,
                                        reason="rotated by an admin")
    except (ConnectionUnusable, HighLevelError) as exc:
        raise ConnectionActionError(explain(exc)) from None
    audit_record(action=AuditEntry.Action.ROTATED, connection=connection, actor=actor.user,
                 ip_address=actor.ip_address, detail="OAuth token pair replaced")
    return connection


@dataclass(frozen=True)
class TestResult:
    ok: bool
    latency_ms: float
    message: str


def connection_test(*, connection: Connection, actor: Actor, client: HighLevelClient | None = None) -> TestResult:
    """One cheap real call with the stored credential; the result and its latency."""
    started = time.perf_counter()
    try:
        if connection.kind == Connection.Kind.OAUTH_AGENCY:
            probe = client or client_for_connection(connection)
            count = sum(1 for _ in probe.iter_installed_locations(connection.company_id))
            message = f"OK: the agency token works; the app is installed in {count} location(s)."
        else:
            location = connection.locations.first()
            location_id = connection.location_id or (location.location_id if location else "")
            from integrations.connections.tokens import client_for_location

            probe = client or client_for_location(location or Location(location_id=location_id,
                                                                      connection=connection))
            listing = probe.list_accounts(location_id)
            message = f"OK: the token works; {len(listing.accounts)} social account(s) visible."
        ok = True
    except (HighLevelError, ConnectionUnusable) as exc:
        ok, message = False, f"Failed: {explain(exc)}"
    latency = (time.perf_counter() - started) * 1000
    audit_record(action=AuditEntry.Action.TESTED, connection=connection, actor=actor.user,
                 ip_address=actor.ip_address, detail=f"{message} ({latency:.0f} ms)")
    return TestResult(ok=ok, latency_ms=latency, message=message)


def connection_rename(*, connection: Connection, name: str, actor: Actor) -> Connection:
    name = name.strip()[:200]
    if not name:
        raise ConnectionActionError("A name cannot be empty.")
    old = connection.name
    Connection.objects.filter(pk=connection.pk).update(name=name, updated_at=timezone.now())
    audit_record(action=AuditEntry.Action.RENAMED, connection=connection, actor=actor.user,
                 ip_address=actor.ip_address, detail=f"Renamed from {old!r} to {name!r}")
    connection.refresh_from_db()
    return connection


def connection_disconnect(*, connection: Connection, actor: Actor) -> Connection:
    """Forget the tokens; keep the connection row, its locations, the mirrored data and the history."""
    now = timezone.now()
    with transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(
            access_token_enc="", refresh_token_enc="", token_expires_at=None, status=Connection.Status.DISCONNECTED,
            refresh_lease_until=None, refresh_lease_owner="", updated_at=now,
        )
        Location.objects.filter(connection=connection).update(token_enc="", token_expires_at=None)
        audit_record(action=AuditEntry.Action.DISCONNECTED, connection=connection, actor=actor.user,
                     ip_address=actor.ip_address, detail="Tokens forgotten; mirrored data and history kept")
    connection.refresh_from_db()
    return connection
