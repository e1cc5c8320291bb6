"""An OAuth install completes here: the callback's code exchanged, the connection saved (the same location or
agency again updates it instead of making a twin), its locations listed in the background."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.clients import highlevel_client
from integrations.connections.audit import Actor, audit_record
from integrations.connections.errors import ConnectionActionError, explain
from integrations.connections.locations import location_upsert, schedules_follow
from integrations.connections.scopes import ScopeReport, scope_report
from integrations.connections.tokens import save_grant
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import HighLevelError, NotConfigured
from integrations.highlevel.oauth import USER_TYPE_COMPANY
from integrations.highlevel.types import TokenGrant
from integrations.models import AuditEntry, Connection


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
        return (client or highlevel_client()).exchange_code(code, redirect_uri, user_type)
    except HighLevelError as exc:
        raise ConnectionActionError(explain(exc)) from None
    except NotConfigured:
        raise ConnectionActionError("No HighLevel app is configured here (HIGHLEVEL_CLIENT_ID and "
                                    "HIGHLEVEL_CLIENT_SECRET), so the code cannot be exchanged.") from None


def connection_connect_grant(
    *, grant: TokenGrant, user_type: str, actor: Actor, location_name: str = ""
) -> tuple[Connection, ScopeReport, bool]:
    """Save a grant as a connection, then start what a new connection needs (names, locations, schedules).
    `location_name`: a location install's name when already known (a confirmed pending install)."""
    connection, created = _connection_from_grant(grant, actor=actor)
    report = scope_report(granted=connection.scope_set, user_type=grant.user_type or user_type)
    from django_q.tasks import async_task

    if connection.kind == Connection.Kind.OAUTH_LOCATION:
        location_upsert(connection, location_id=connection.location_id, name=location_name)
        async_task("integrations.tasks.location_details_refresh", connection.location_id,
                   task_name=f"location-details-{connection.location_id}")
    else:
        async_task("integrations.tasks.connection_discover_locations", connection.pk,
                   task_name=f"discover-locations-{connection.pk}")
    schedules_follow()
    return connection, report, created


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
