"""Fixtures for the sync tests: the sandbox's agency connected through the real OAuth flow."""

from __future__ import annotations

import pytest

from dashboard.devtools.demo import sandbox_agency_connect
from integrations.models import Connection, Location


@pytest.fixture
def agency(hl, db) -> Connection:
    """The sandbox's agency, connected through the real OAuth flow, its locations discovered."""
    connection = sandbox_agency_connect(hl, redirect_uri="http://testserver/connections/oauth/callback/")
    assert Location.objects.filter(connection=connection).count() == len(hl.location_ids())
    return connection


@pytest.fixture
def location(agency) -> Location:
    return Location.objects.filter(connection=agency).order_by("location_id").first()
