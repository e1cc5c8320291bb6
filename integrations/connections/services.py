"""What admins do with connections: connect (OAuth or Private Integration token), test, rotate, disconnect.

Each function calls HighLevel first, then writes in a short transaction; none holds a transaction across
network I/O. Errors reach the caller as `ConnectionActionError` with a message fit for an admin's eyes
(never a token).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations import crypto
from integrations.connections.audit import audit_record
from integrations.connections.scopes import ScopeReport, scope_report
from integrations.connections.tokens import (
    ConnectionUnusable,
    client_for_connection,
    client_for_location,
    connection_refresh,
    save_grant,
)
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import (
    AuthenticationError,
    HighLevelError,
    InvalidGrant,
    ScopeError,
    TransportError,
)
from integrations.highlevel.oauth import USER_TYPE_COMPANY
from integrations.highlevel.types import TokenGrant
from integrations.models import AuditEntry, Connection, Location

log = logging.getLogger(__name__)


class ConnectionActionError(Exception):
    """An admin action failed; the message says why in plain words."""


@dataclass(frozen=True)
class Actor:
    user: Any = None
    ip_address: str | None = None


def _explain(exc: Exception) -> str:
    if isinstance(exc, InvalidGrant):
        return "HighLevel refused the authorization (the code or token was already used, expired or revoked)."
    if isinstance(exc, AuthenticationError):
        return "HighLevel rejected the token (invalid, expired or revoked)."
    if isinstance(exc, ScopeError):
        return "The token lacks a scope Tagscope needs."
    if isinstance(exc, TransportError):
        return "HighLevel could not be reached (timeout or connection error). Try again in a moment."
    if isinstance(exc, HighLevelError):
        return f"HighLevel answered with an error: {exc.message or type(exc).__name__}."
    return str(exc)


# --- OAuth ---------------------------------------------------------------------------------------------------
def connection_complete_oauth(
    *, code: str, redirect_uri: str, user_type: str, actor: Actor, client: HighLevelClient | None = None
) -> tuple[Connection, ScopeReport, bool]:
    """Exchange the callback's code and save the connection (the same location or agency again updates
    the existing connection instead of making a twin). Returns (connection, scope report, created)."""
    grant = oauth_code_exchange(code=code, redirect_uri=redirect_uri, user_type=user_type, client=client)
    return connection_connect_grant(grant=grant, user_type=user_type, actor=actor)


def oauth_code_exchange(
    *, code: str, redirect_uri: str, user_type: str, client: HighLevelClient | None = None
) -> TokenGrant:
    try:
        return (client or HighLevelClient()).exchange_code(code, redirect_uri, user_type)
    except HighLevelError as exc:
        raise ConnectionActionError(_explain(exc)) from None


def connection_connect_grant(
    *, grant: TokenGrant, user_type: str, actor: Actor, location_name: str = ""
) -> tuple[Connection, ScopeReport, bool]:
    """Save a grant as a connection, then start what a new connection needs (names, locations, schedules).
    `location_name`: a location install's name when already known (a confirmed pending install)."""
    connection, created = _connection_from_grant(grant, actor=actor)
    report = scope_report(granted=connection.scope_set, user_type=grant.user_type or user_type)
    from django_q.tasks import async_task

    if connection.kind == Connection.Kind.OAUTH_LOCATION:
        _location_upsert(connection, location_id=connection.location_id, name=location_name)
        async_task("integrations.tasks.location_details_refresh", connection.location_id,
                   task_name=f"location-details-{connection.location_id}")
    else:
        async_task("integrations.tasks.connection_discover_locations", connection.pk,
                   task_name=f"discover-locations-{connection.pk}")
    _schedules_follow()
    return connection, report, created


def _schedules_follow() -> None:
    """A new connection gets its sync schedules now, not at the next pass of `tagscope.sync-schedules`:
    a new schedule is due at once, so the first refresh starts at the scheduler's next tick."""
    from integrations.schedules import ensure_schedules

    ensure_schedules()


def _connection_from_grant(grant: TokenGrant, *, actor: Actor) -> tuple[Connection, bool]:
    is_agency = (grant.user_type or "").lower() == USER_TYPE_COMPANY.lower()
    kind = Connection.Kind.OAUTH_AGENCY if is_agency else Connection.Kind.OAUTH_LOCATION
    company_id = grant.company_id or ""
    location_id = "" if is_agency else (grant.location_id or "")
    if not is_agency and not location_id:
        raise ConnectionActionError("HighLevel's answer named no location; nothing was saved.")
    now = timezone.now()
    identity = {"kind": kind, "company_id": company_id, "location_id": location_id}
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(**identity).first()
        created = connection is None
        if created:
            connection = Connection(**identity, name=_default_name(kind, company_id, location_id))
        connection.highlevel_user_id = grant.user_id or ""
        connection.connected_by = actor.user if getattr(actor.user, "is_authenticated", False) else None
        connection.connected_at = now
        connection.refresh_lease_until = None
        connection.refresh_lease_owner = ""
        try:
            connection.save()
        except IntegrityError:  # a concurrent callback for the same identity won: update that one
            connection = Connection.objects.get(**identity)
            created = False
        save_grant(connection, grant)
        audit_record(
            action=AuditEntry.Action.CONNECTED if created else AuditEntry.Action.RECONNECTED,
            connection=connection, actor=actor.user, ip_address=actor.ip_address,
            detail=f"OAuth {'agency' if is_agency else 'location'} install; scopes: {' '.join(grant.scope)}",
        )
    return connection, created


def _default_name(kind: str, company_id: str, location_id: str) -> str:
    if kind == Connection.Kind.OAUTH_AGENCY:
        return f"Agency {company_id}"
    return f"Location {location_id}"


def _location_upsert(connection: Connection, *, location_id: str, name: str, timezone_name: str = "",
                     address: str = "", installed_at=None) -> Location:
    location, created = Location.objects.get_or_create(
        location_id=location_id,
        defaults={"connection": connection, "company_id": connection.company_id,
                  "name": name or f"Location {location_id}", "timezone": timezone_name or "UTC",
                  "address": address or "", "installed_at": installed_at or timezone.now()},
    )
    if not created:
        changed = {"connection": connection, "is_installed": True, "uninstalled_at": None}
        if name:
            changed["name"] = name
        if timezone_name:
            changed["timezone"] = timezone_name
        if address:
            changed["address"] = address
        if connection.company_id:
            changed["company_id"] = connection.company_id
        for key, value in changed.items():
            setattr(location, key, value)
        location.save()
    return location


def agency_locations_discover(*, connection_id: int, client: HighLevelClient | None = None) -> list[Location]:
    """List where the app is installed in the agency and keep a Location for each (tokens are minted on use)."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.kind != Connection.Kind.OAUTH_AGENCY:
        return list(connection.locations.all())
    client = client or client_for_connection(connection)
    installed = list(client.iter_installed_locations(connection.company_id))  # HTTP before any write
    locations = [
        _location_upsert(connection, location_id=item.id, name=item.name, address=item.address or "",
                         installed_at=item.installed_at)
        for item in installed if item.is_installed
    ]
    seen = {item.id for item in installed if item.is_installed}
    Location.objects.filter(connection=connection, is_installed=True).exclude(location_id__in=seen).update(
        is_installed=False, uninstalled_at=timezone.now(), token_enc="", token_expires_at=None
    )
    for location in locations:
        location_details_refresh(location=location)
    _schedules_follow()  # again, now that the locations its schedules refresh are known
    return locations


def location_details_refresh(
    *, location: Location, client: HighLevelClient | None = None, keep_name: bool = False
) -> bool:
    """Fill the location's real name, time zone and address from `GET /locations/{locationId}`.

    Best effort: a token without `locations.readonly` (ScopeError), any other HighLevel error or an unusable
    connection keeps the current values and logs a warning; it never raises for those, so a connect never
    fails on it. `keep_name` keeps a name an admin typed. Returns whether anything changed."""
    try:
        info = (client or client_for_location(location)).get_location(location.location_id)
    except ScopeError:
        log.warning("location %s: the token lacks locations.readonly; its name and time zone stay as they are "
                    "(dates show in %s)", location.location_id, location.timezone)
        return False
    except (HighLevelError, ConnectionUnusable) as exc:
        log.warning("location %s: its details could not be read (%s); current values kept",
                    location.location_id, _explain(exc))
        return False
    changed: dict[str, str] = {}
    if info.name and not keep_name:
        changed["name"] = info.name[: Location._meta.get_field("name").max_length]
    if info.timezone and _is_time_zone(info.timezone):
        changed["timezone"] = info.timezone
    elif info.timezone:
        log.warning("location %s: HighLevel's time zone %r is unknown here; %s kept",
                    location.location_id, info.timezone, location.timezone)
    address = info.one_line_address
    if address:
        changed["address"] = address[: Location._meta.get_field("address").max_length]
    changed = {key: value for key, value in changed.items() if getattr(location, key) != value}
    if not changed:
        return False
    Location.objects.filter(pk=location.pk).update(**changed, updated_at=timezone.now())
    for key, value in changed.items():
        setattr(location, key, value)
    return True


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- Private Integration tokens ---------------------------------------------------------------------------
def _probe_location_token(token: str, location_id: str, client: HighLevelClient | None) -> float:
    """A live call with the token alone (no stored credential); returns its latency in ms."""
    probe = client or HighLevelClient(lambda: token)
    started = time.perf_counter()
    try:
        probe.list_accounts(location_id)
    except HighLevelError as exc:
        raise ConnectionActionError(f"The token did not work for location {location_id}: {_explain(exc)}") from None
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
        location = _location_upsert(connection, location_id=location_id, name=name)
        audit_record(
            action=AuditEntry.Action.CONNECTED if created else AuditEntry.Action.ROTATED,
            connection=connection, actor=actor.user, ip_address=actor.ip_address,
            detail="Private Integration token added" if created else "Private Integration token replaced",
        )
    # Once, after the save and outside the transaction; a token made without locations.readonly is fine.
    location_details_refresh(location=location, client=client, keep_name=bool(name))
    _schedules_follow()
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
        raise ConnectionActionError(_explain(exc)) from None
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
        ok, message = False, f"Failed: {_explain(exc)}"
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
