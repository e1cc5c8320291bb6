"""Connections and locations in known states, for tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations import crypto
from integrations.models import Connection, Location


def oauth_connection(
    *, access: str = "sbxat_access_one", refresh: str = "sbxrt_refresh_one", expires_in: int = 86399,
    kind: str = Connection.Kind.OAUTH_LOCATION, location_id: str = "LOC123456", company_id: str = "COMP12345",
    scopes: str = "socialplanner/tag.readonly socialplanner/account.readonly "
    "socialplanner/statistics.readonly socialplanner/post.readonly",
) -> Connection:
    connection = Connection.objects.create(
        name="Test connection", kind=kind, company_id=company_id,
        location_id="" if kind == Connection.Kind.OAUTH_AGENCY else location_id,
        access_token_enc=crypto.encrypt(access), refresh_token_enc=crypto.encrypt(refresh),
        token_expires_at=timezone.now() + timedelta(seconds=expires_in), scopes=scopes, connected_at=timezone.now(),
    )
    if kind != Connection.Kind.OAUTH_AGENCY:
        Location.objects.create(location_id=location_id, connection=connection, name="Test location")
    return connection


def token_answer(access: str = "sbxat_access_two", refresh: str = "sbxrt_refresh_two", **extra) -> dict:
    return {
        "access_token": access, "token_type": "Bearer", "expires_in": 86399, "refresh_token": refresh,
        "scope": "socialplanner/tag.readonly socialplanner/account.readonly socialplanner/statistics.readonly "
        "socialplanner/post.readonly",
        "userType": "Location", "locationId": "LOC123456", "companyId": "COMP12345", "userId": "USER1",
        **extra,
    }
