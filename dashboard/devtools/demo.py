"""Connect a HighLevel sandbox's agency the way an admin would (consent page, code exchange, location
discovery): used by `make run` (devstack), the sync tests and bench/sync.py."""

from __future__ import annotations

from integrations.connections.audit import Actor
from integrations.connections.locations import agency_locations_discover
from integrations.connections.oauth_install import connection_complete_oauth
from integrations.models import Connection
from sandbox.client import AGENCY_SCOPES, LOCATION_SCOPES, SandboxControl


def sandbox_agency_connect(control: SandboxControl, *, redirect_uri: str, company_id: str | None = None) -> Connection:
    """Walk the sandbox's consent page for the agency, complete the install and list its locations."""
    company_id = company_id or control.state()["agencies"][0]["id"]
    answer = control.authorize(f"company:{company_id}", scope=f"{LOCATION_SCOPES} {AGENCY_SCOPES}",
                               redirect_uri=redirect_uri)
    connection, _, _ = connection_complete_oauth(code=answer["code"], redirect_uri=redirect_uri,
                                                 user_type="Company", actor=Actor())
    agency_locations_discover(connection_id=connection.pk)
    return connection


def sandbox_agency_ensure(control: SandboxControl, *, redirect_uri: str) -> str | None:
    """`make run`'s start: connect the sandbox's agency, or walk its consent page again if it is connected.

    The sandbox keeps its tokens in memory, so once it has restarted the refresh token stored for its agency
    is one it never issued (the connection would need a reconnect at its first refresh). Nothing is done
    when an admin disconnected the agency, or connected something else and not the agency. Answers
    "connected", "reconnected" or None.
    """
    company_id = control.state()["agencies"][0]["id"]
    existing = Connection.objects.filter(kind=Connection.Kind.OAUTH_AGENCY, company_id=company_id).first()
    if existing is None and Connection.objects.exists():
        return None
    if existing is not None and existing.status == Connection.Status.DISCONNECTED:
        return None
    sandbox_agency_connect(control, redirect_uri=redirect_uri, company_id=company_id)
    return "connected" if existing is None else "reconnected"
