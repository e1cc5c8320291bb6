"""Access tokens for HighLevel calls, and the one rotation-safe place where OAuth tokens are refreshed
(docs/architecture.md, "Token refresh").

HighLevel's refresh tokens are single use: the answer to a refresh carries a new refresh token and the
old one is spent. So one refresh per connection runs at a time across every process (a lease taken by a
conditional UPDATE: it holds on SQLite, where SELECT FOR UPDATE does nothing, and keeps no transaction
open across the HTTP call); both new tokens are saved in one UPDATE before anyone uses them; and a
process that waited for another's refresh simply reads the token that process saved.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations import crypto
from integrations.clients import highlevel_client
from integrations.connections.audit import audit_record
from integrations.crypto import UndecryptableSecret
from integrations.db import connections_give_back, db_datetime, idle, last_used_touch, plain_statement
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import HighLevelError, InvalidGrant
from integrations.highlevel.oauth import USER_TYPE_COMPANY, USER_TYPE_LOCATION
from integrations.highlevel.types import TokenGrant
from integrations.models import AuditEntry, Connection, Event, Location

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
REFRESH_AHEAD = timedelta(minutes=5)  # on use: refresh a token this close to expiry
WAIT_POLL_SECONDS = 0.1
# How long a client reuses the token it read: a disconnect or a rotation reaches a running sync this late.
TOKEN_RECHECK = timedelta(seconds=5)


class ConnectionUnusable(Exception):
    """The connection cannot produce a token; an admin must act (reconnect, rotate, re-enable)."""

    def __init__(self, connection: Connection, reason: str = ""):
        self.connection_id = connection.pk
        self.status = connection.status
        super().__init__(reason or f"Connection {connection.pk} is {connection.get_status_display().lower()}")


def _owner() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _expiring(expires_at: datetime | None, now: datetime, margin: timedelta = REFRESH_AHEAD) -> bool:
    return expires_at is not None and expires_at <= now + margin


# --- marking a connection broken ----------------------------------------------------------------------
def connection_mark_needs_reconnect(
    connection: Connection, *, reason: str, seen_version: int | None = None, audit_action: str = ""
) -> bool:
    """Mark the connection as needing an admin, raise the alert event once. Returns False when a newer
    token pair was saved meanwhile (the failure was about a token nobody holds any more)."""
    now = timezone.now()
    query = Connection.objects.filter(pk=connection.pk).exclude(status=Connection.Status.NEEDS_RECONNECT)
    if seen_version is not None:
        query = query.filter(token_version=seen_version)
    with transaction.atomic():
        changed = query.update(
            status=Connection.Status.NEEDS_RECONNECT, last_error=reason[:500], last_error_at=now, updated_at=now
        )
        if changed:
            Event.objects.create(
                type=Event.Type.CONNECTION_NEEDS_RECONNECT, occurred_at=now, connection=connection,
                payload={"connection_id": connection.pk, "name": connection.name, "reason": reason},
            )
            audit_record(action=audit_action or AuditEntry.Action.REFRESH_FAILED, connection=connection, detail=reason)
    if changed:
        log.warning("connection %s needs reconnect: %s", connection.pk, reason)
    connection.refresh_from_db()
    return bool(changed)


# --- refresh ---------------------------------------------------------------------------------------------
def _claim_lease(connection_id: int, owner: str, now: datetime) -> bool:
    return bool(
        Connection.objects.filter(pk=connection_id)
        .filter(Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now))
        .update(refresh_lease_until=now + LEASE, refresh_lease_owner=owner)
    )


def _release_lease(connection_id: int, owner: str) -> None:
    Connection.objects.filter(pk=connection_id, refresh_lease_owner=owner).update(
        refresh_lease_until=None, refresh_lease_owner=""
    )


def save_grant(connection: Connection, grant: TokenGrant, *, owner: str = "") -> Connection:
    """Store a new token pair in one UPDATE, bump the version, release the lease."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=grant.expires_in) if grant.expires_in else None
    fields = {
        "access_token_enc": crypto.encrypt(grant.access_token),
        "token_expires_at": expires_at,
        "token_version": F("token_version") + 1,
        "status": Connection.Status.ACTIVE,
        "last_refreshed_at": now,
        "last_error": "",
        "last_error_at": None,
        "refresh_lease_until": None,
        "refresh_lease_owner": "",
        "updated_at": now,
    }
    if grant.refresh_token:
        fields["refresh_token_enc"] = crypto.encrypt(grant.refresh_token)
    if grant.scope:
        fields["scopes"] = " ".join(grant.scope)
    Connection.objects.filter(pk=connection.pk).update(**fields)
    connection.refresh_from_db()
    return connection


def connection_refresh(
    *,
    connection_id: int,
    seen_version: int | None = None,
    force: bool = False,
    client: HighLevelClient | None = None,
    sleep: Callable[[float], None] = idle,
    reason: str = "ahead of expiry",
) -> Connection:
    """Make sure the connection holds a fresh token; refresh it at most once across all processes.

    `seen_version`: the token version the caller used and found wanting (a 401). If another process
    saved a newer pair meanwhile, that pair is used and no refresh happens.
    """
    owner = _owner()
    deadline = time.monotonic() + LEASE.total_seconds() + 5
    baseline: int | None = seen_version  # the token version this call is about
    while True:
        connection = Connection.objects.get(pk=connection_id)
        if connection.kind == Connection.Kind.PRIVATE_TOKEN:
            return connection  # nothing to refresh: rotated by hand
        if not connection.is_usable:
            raise ConnectionUnusable(connection)
        if baseline is None:
            baseline = connection.token_version
        if connection.token_version != baseline:
            return connection  # another process saved a newer pair: use it
        if seen_version is None and not force and not _expiring(connection.token_expires_at, timezone.now()):
            return connection
        if _claim_lease(connection_id, owner, timezone.now()):
            break
        if time.monotonic() > deadline:
            raise ConnectionUnusable(connection, "another process holds the refresh lease for too long")
        sleep(WAIT_POLL_SECONDS)

    # The lease may have been won just after another process saved and released it.
    connection.refresh_from_db()
    if connection.token_version != baseline:
        _release_lease(connection_id, owner)
        return connection
    version = connection.token_version
    try:
        refresh_token = crypto.decrypt(connection.refresh_token_enc, what="the refresh token")
        if not refresh_token:
            raise InvalidGrant("no refresh token is stored for this connection", status=400)
        user_type = USER_TYPE_COMPANY if connection.kind == Connection.Kind.OAUTH_AGENCY else USER_TYPE_LOCATION
        grant = (client or highlevel_client(connection_id=connection_id)).refresh_token(refresh_token, user_type)
    except (InvalidGrant, UndecryptableSecret) as exc:
        _release_lease(connection_id, owner)
        reason_text = (
            "HighLevel refused the stored refresh token (revoked, or already used by a process that stopped "
            "before saving the new one). Reconnect this connection."
            if isinstance(exc, InvalidGrant)
            else f"{exc}. Reconnect this connection."
        )
        connection_mark_needs_reconnect(connection, reason=reason_text, seen_version=version)
        raise ConnectionUnusable(connection, reason_text) from None
    except HighLevelError as exc:
        _release_lease(connection_id, owner)
        Connection.objects.filter(pk=connection_id).update(
            last_error=f"Token refresh failed: {exc}"[:500], last_error_at=timezone.now()
        )
        audit_record(action=AuditEntry.Action.REFRESH_FAILED, connection=connection, detail=str(exc))
        raise
    except BaseException:
        _release_lease(connection_id, owner)
        raise
    connection = save_grant(connection, grant, owner=owner)
    audit_record(action=AuditEntry.Action.REFRESHED, connection=connection, detail=reason)
    log.info("connection %s token refreshed (%s)", connection_id, reason)
    return connection


# --- location tokens (agency installs) ---------------------------------------------------------------------
def location_token_mint(*, location: Location, agency: Connection) -> str:
    creds = ConnectionCredentials(agency.pk)
    client = highlevel_client(creds.token, on_unauthorized=creds.on_unauthorized, connection_id=agency.pk)
    minted = client.mint_location_token(agency.company_id, location.location_id)
    now = timezone.now()
    expires_at = now + timedelta(seconds=minted.expires_in) if minted.expires_in else None
    Location.objects.filter(pk=location.pk).update(
        token_enc=crypto.encrypt(minted.access_token), token_expires_at=expires_at, updated_at=now
    )
    location.token_expires_at = expires_at
    return minted.access_token


# --- the token callables a client is built with -----------------------------------------------------------
class ConnectionCredentials:
    """`token()` and `on_unauthorized()` for a HighLevelClient acting for a connection, or for one location
    of it (agency installs then use a minted location token)."""

    def __init__(self, connection_id: int, *, location: Location | None = None):
        self.connection_id = connection_id
        self.location = location
        self._version: int | None = None
        self._drop_location_token = False
        self._held: tuple[str, datetime | None, datetime] | None = None  # token, its expiry, when it was read
        self._reading = threading.Lock()  # one thread (a unit's or one of its lanes) reads the token at a time

    def _connection(self) -> Connection:
        connection = Connection.objects.get(pk=self.connection_id)
        if not connection.is_usable:
            raise ConnectionUnusable(connection)
        return connection

    def token(self) -> str:
        """The token to send. The one read last is reused for TOKEN_RECHECK (a sync sends ten requests a
        second: this spares the database and the decryption for each), unless it is about to expire.

        A unit's lanes share these credentials. When the recheck falls due, one of them reads the token again
        and the others send the held one meanwhile: it is still good (not about to expire), and a rotation
        reaches the sync as late as before. They used to read it all at once, each waiting for one of the
        process's pooled connections to do so (PostgreSQL: ~400 of a worker's lanes at a time, in the census
        of a 100-location sync). Without a good held token (the first, after a 401, near expiry) they queue
        for the one read, holding no pooled connection meanwhile, and the first to read serves the rest."""
        held = self._held
        now = timezone.now()
        if held is not None and not _expiring(held[1], now):
            if now - held[2] < TOKEN_RECHECK or not self._reading.acquire(blocking=False):
                return held[0]
        else:
            connections_give_back()
            self._reading.acquire()
        try:
            held, now = self._held, timezone.now()
            if held is not None and now - held[2] < TOKEN_RECHECK and not _expiring(held[1], now):
                return held[0]  # another thread read it while this one waited
            token, expires_at = self._read_token(now)
            self._held = (token, expires_at, now)
            return token
        finally:
            self._reading.release()

    def _read_token(self, now: datetime) -> tuple[str, datetime | None]:
        held = self._stored_token(now)
        if held is not None:
            return held
        connection = self._connection()
        last_used_touch(connection, now=now)
        if connection.kind == Connection.Kind.OAUTH_AGENCY and self.location is not None:
            return self._location_token(connection, now), self.location.token_expires_at
        if _expiring(connection.token_expires_at, now):
            connection = connection_refresh(connection_id=connection.pk, reason="expiring on use")
        self._version = connection.token_version
        try:
            return crypto.decrypt(connection.access_token_enc, what="the access token"), connection.token_expires_at
        except UndecryptableSecret as exc:
            connection_mark_needs_reconnect(connection, reason=f"{exc}. Reconnect or rotate this connection.",
                                            audit_action=AuditEntry.Action.UNDECRYPTABLE)
            raise ConnectionUnusable(connection, str(exc)) from None

    def _stored_token(self, now: datetime) -> tuple[str, datetime | None] | None:
        """The usual case in one query of a few columns: a usable connection whose stored token (the location's
        minted one, for an agency install) is not about to expire. None: anything else, which the full read
        handles (it refreshes, mints, marks the connection or raises). A sync re-reads its token every
        TOKEN_RECHECK; building a whole Connection (and a Location) for that was a tenth of a worker's CPU, and
        compiling the query through the ORM most of what was left (_token_row)."""
        row = _token_row(self.connection_id, self.location.pk if self.location is not None else None)
        if row is None:
            return None
        status, kind, last_used_at, version, token_enc, expires_at = row[:6]
        minted = kind == Connection.Kind.OAUTH_AGENCY and self.location is not None
        if minted:
            if self._drop_location_token:
                return None
            token_enc, expires_at = row[6:]
        last_used_at, expires_at = db_datetime(last_used_at), db_datetime(expires_at)
        if status not in Connection.USABLE or not token_enc or _expiring(expires_at, now):
            return None
        try:
            token = crypto.decrypt(token_enc, what="the access token")
        except UndecryptableSecret:
            return None  # the full read says so (or, for a minted token, mints another)
        last_used_touch(Connection(pk=self.connection_id, last_used_at=last_used_at), now=now)
        if minted:
            self.location.token_expires_at = expires_at
        else:
            self._version = version
        return token, expires_at

    def _location_token(self, agency: Connection, now: datetime) -> str:
        location = self.location
        assert location is not None
        location.refresh_from_db(fields=["token_enc", "token_expires_at"])
        if not self._drop_location_token and location.token_enc and not _expiring(location.token_expires_at, now):
            try:
                return crypto.decrypt(location.token_enc, what="the location token")
            except UndecryptableSecret:
                pass  # a minted token is disposable: mint another
        self._drop_location_token = False
        return location_token_mint(location=location, agency=agency)

    def on_unauthorized(self) -> None:
        self._held = None
        connection = Connection.objects.get(pk=self.connection_id)
        if connection.kind == Connection.Kind.PRIVATE_TOKEN:
            connection_mark_needs_reconnect(
                connection,
                reason="HighLevel rejected the Private Integration token (revoked or expired). Rotate it.",
            )
            return
        if connection.kind == Connection.Kind.OAUTH_AGENCY and self.location is not None:
            self._drop_location_token = True
            return
        connection_refresh(connection_id=self.connection_id, seen_version=self._version, reason="after a 401")


# The columns `_stored_token` reads: the connection's, then (for one location) the location's minted token.
TOKEN_COLUMNS = ("status", "kind", "last_used_at", "token_version", "access_token_enc", "token_expires_at")


def _token_row(connection_id: int, location_pk: int | None) -> tuple | None:
    """`_stored_token`'s one query, as plain SQL (read every TOKEN_RECHECK by every client of a sync; the
    ORM's compiling cost several times the query). Datetimes come back as the database gives them."""
    quote = db_connection.ops.quote_name
    columns = ", ".join(f"c.{quote(name)}" for name in TOKEN_COLUMNS)
    connections_table, connection_pk = quote(Connection._meta.db_table), quote(Connection._meta.pk.column)
    if location_pk is None:
        sql = f"SELECT {columns} FROM {connections_table} c WHERE c.{connection_pk} = %s"  # noqa: S608 (names only)
        params: list[int] = [connection_id]
    else:
        location_fk = quote(Location._meta.get_field("connection").column)
        sql = (f"SELECT {columns}, l.{quote('token_enc')}, l.{quote('token_expires_at')} "  # noqa: S608 (names only)
               f"FROM {quote(Location._meta.db_table)} l JOIN {connections_table} c ON c.{connection_pk} = "
               f"l.{location_fk} WHERE l.{quote(Location._meta.pk.column)} = %s AND c.{connection_pk} = %s")
        params = [location_pk, connection_id]
    return plain_statement(sql, params)[1]


def client_for_location(location: Location, *, run_id: int | None = None, **kwargs) -> HighLevelClient:
    """The HighLevel client that reads one location's Social Planner data with the right token."""
    if location.connection_id is None:
        raise ConnectionUnusable(Connection(pk=None, name="(none)", status=Connection.Status.DISCONNECTED),
                                 f"Location {location.location_id} has no connection")
    creds = ConnectionCredentials(location.connection_id, location=location)
    # A connection moved to 2021-07-28 (integrations/connections/contract.py) asks statistics and posts with it.
    kwargs.setdefault("social_version", Connection.objects.filter(pk=location.connection_id)
                      .values_list("social_api_version", flat=True).first() or None)
    return highlevel_client(
        creds.token, on_unauthorized=creds.on_unauthorized, connection_id=location.connection_id, run_id=run_id,
        **kwargs,
    )


def client_for_connection(connection: Connection, **kwargs) -> HighLevelClient:
    creds = ConnectionCredentials(connection.pk)
    return highlevel_client(creds.token, on_unauthorized=creds.on_unauthorized, connection_id=connection.pk, **kwargs)


def refresh_expiring_tokens(*, within: timedelta = timedelta(minutes=30)) -> int:
    """The schedule's job: refresh every OAuth connection whose token expires soon. Returns how many."""
    soon = timezone.now() + within
    ids = list(
        Connection.objects.filter(
            kind__in=[Connection.Kind.OAUTH_LOCATION, Connection.Kind.OAUTH_AGENCY],
            token_expires_at__lte=soon,
        ).usable().values_list("pk", flat=True)
    )
    refreshed = 0
    for connection_id in ids:
        try:
            connection_refresh(connection_id=connection_id, force=True, reason="scheduled, ahead of expiry")
            refreshed += 1
        except (ConnectionUnusable, HighLevelError) as exc:
            log.warning("scheduled refresh of connection %s failed: %s", connection_id, exc)
            Connection.objects.filter(pk=connection_id, status=Connection.Status.ACTIVE).update(
                status=Connection.Status.EXPIRING
            )
    return refreshed
