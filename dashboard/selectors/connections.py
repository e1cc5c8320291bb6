"""What the connections pages show, shaped in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from integrations.connections.scopes import ScopeReport, scope_report
from integrations.highlevel.oauth import USER_TYPE_COMPANY, USER_TYPE_LOCATION
from integrations.models import AuditEntry, Connection


@dataclass
class ConnectionRow:
    connection: Connection
    location_count: int
    scopes: ScopeReport
    expires_at: datetime | None


def _report(connection: Connection) -> ScopeReport:
    if connection.kind == Connection.Kind.PRIVATE_TOKEN:
        return ScopeReport()  # a PIT's scopes are not reported by HighLevel; the live check covers it
    user_type = USER_TYPE_COMPANY if connection.kind == Connection.Kind.OAUTH_AGENCY else USER_TYPE_LOCATION
    return scope_report(granted=connection.scope_set, user_type=user_type)


def connection_rows() -> list[ConnectionRow]:
    connections = Connection.objects.annotate(
        location_count=Count("locations", filter=Q(locations__is_installed=True))
    ).select_related("connected_by")
    return [
        ConnectionRow(connection=c, location_count=c.location_count, scopes=_report(c), expires_at=c.token_expires_at)
        for c in connections
    ]


def connection_detail(connection: Connection) -> dict:
    return {
        "connection": connection,
        "scopes": _report(connection),
        "locations": list(connection.locations.order_by("-is_installed", "name")),
        "audit": list(
            AuditEntry.objects.filter(connection=connection).select_related("actor")[:100]
        ),
    }

