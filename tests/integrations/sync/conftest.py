"""Fixtures for the sync tests: the sandbox's agency connected through the real OAuth flow."""

from __future__ import annotations

import pytest

from integrations.connections.services import Actor, connection_complete_oauth
from integrations.highlevel.sandbox.client import AGENCY_SCOPES, LOCATION_SCOPES
from integrations.models import Connection, Location


def connect_agency(hl) -> Connection:
    """Walk the sandbox's consent page for its agency and complete the install as the callback would;
    the agency's locations are discovered (synchronously under test settings)."""
    company_id = hl.state()["agencies"][0]["id"]
    redirect_uri = "http://testserver/connections/oauth/callback/"
    answer = hl.authorize(f"company:{company_id}", scope=f"{LOCATION_SCOPES} {AGENCY_SCOPES}",
                          redirect_uri=redirect_uri)
    connection, _, _ = connection_complete_oauth(code=answer["code"], redirect_uri=redirect_uri,
                                                 user_type="Company", actor=Actor())
    return connection


@pytest.fixture
def agency(hl, db) -> Connection:
    connection = connect_agency(hl)
    assert Location.objects.filter(connection=connection).count() == len(hl.location_ids())
    return connection


@pytest.fixture
def location(agency) -> Location:
    return Location.objects.filter(connection=agency).order_by("location_id").first()
