"""A refresh a person asks for (the "Refresh now" button, `POST /api/v1/locations/<id>/refresh/`): the rule
that decides whether the location may be refreshed, and the domain error the page and the API translate."""

from __future__ import annotations

from typing import Any

from integrations.models import Location, SyncRun
from integrations.sync.services import refresh_location_enqueue


class RefreshRefused(Exception):
    """The location cannot sync: no usable connection, or the app is no longer installed there."""


def refresh_location_request(location: Location, *, actor: Any) -> SyncRun:
    """Enqueue a refresh of a location that may be refreshed (`Location.can_refresh`); RefreshRefused otherwise."""
    if not location.can_refresh:
        raise RefreshRefused("This location's HighLevel connection cannot sync; see Connections.")
    return refresh_location_enqueue(location, actor=actor)
