"""After connecting, testing, refreshing and a failed refresh, no sandbox token is anywhere in clear:
not in log lines, not in any page an admin can open, not in any database column."""

from __future__ import annotations

import logging
import re

import pytest
from django.apps import apps
from django.db import connection as db

from integrations.connections.tokens import ConnectionUnusable, connection_refresh
from integrations.models import Connection
from tests.integrations.connections.test_oauth_flow import consent

TOKEN_SHAPES = re.compile(r"(sbxat_|sbxrt_|sbxlt_|sbxcode_|pit-)[A-Za-z0-9_-]{6,}")


def all_database_text() -> str:
    chunks = []
    with db.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if table not in db.introspection.table_names():
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # table names come from Django itself
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


@pytest.mark.django_db
def test_no_token_in_clear_in_logs_pages_or_database(hl, admin_http, admin_user, caplog):
    caplog.set_level(logging.DEBUG)
    admin_user.is_superuser = True  # so the Django admin shows every row it has
    admin_user.save()
    issued: set[str] = set()
    # connect an agency and a location through the real flow, and a PIT
    for choice in (f"company:{hl.state()['agencies'][0]['id']}", f"location:{hl.location_ids()[0]}"):
        start = admin_http.get(f"/connections/oauth/start/?install={'agency' if 'company' in choice else 'location'}")
        admin_http.get("/connections/oauth/callback/", consent(hl, start, choice))
    pit = hl.pit(hl.location_ids()[1])
    issued.add(pit)
    admin_http.post("/connections/private-token/", {"name": "P", "location_id": hl.location_ids()[1], "token": pit})
    pages = []
    for connection in Connection.objects.all():
        admin_http.post(f"/connections/{connection.pk}/test/")
        if connection.kind != Connection.Kind.PRIVATE_TOKEN:
            connection_refresh(connection_id=connection.pk, force=True)
    # a failed refresh: HighLevel revokes everything, the next refresh gets invalid_grant
    hl.revoke_tokens(all=True)
    location_conn = Connection.objects.get(kind=Connection.Kind.OAUTH_LOCATION)
    with pytest.raises(ConnectionUnusable):
        connection_refresh(connection_id=location_conn.pk, force=True)
    for connection in Connection.objects.all():
        pages.append(admin_http.get(f"/connections/{connection.pk}/").content.decode())
        admin_page = admin_http.get(f"/admin/integrations/connection/{connection.pk}/change/")
        assert admin_page.status_code == 200
        pages.append(admin_page.content.decode())
    pages.append(admin_http.get("/connections/").content.decode())
    pages.append(admin_http.get("/admin/integrations/auditentry/").content.decode())

    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    database = all_database_text()
    assert "sbxat_" not in database and "sbxrt_" not in database and pit not in database
    for where, text in (("logs", logs), ("pages", "\n".join(pages)), ("database", database)):
        found = TOKEN_SHAPES.findall(text)
        assert not found, f"token-shaped strings in {where}: {found[:3]}"
    assert len(caplog.records) > 5  # the run did log; it just logged no secret
