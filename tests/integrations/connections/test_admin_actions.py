"""Private Integration tokens and the test / rotate / disconnect actions, through the views, on the sandbox."""

from __future__ import annotations

import pytest

from integrations import crypto
from integrations.models import AuditEntry, Connection, Location


def add_pit(admin_http, hl, *, token=None, location_id=None, name="Downtown Dental"):
    location_id = location_id or hl.location_ids()[0]
    token = token if token is not None else hl.pit(location_id)
    return admin_http.post("/connections/private-token/",
                           {"name": name, "location_id": location_id, "token": token}, follow=True)


@pytest.mark.django_db
def test_a_private_token_is_checked_live_then_saved_encrypted(hl, admin_http):
    response = add_pit(admin_http, hl)
    assert b"Connected Downtown Dental" in response.content
    connection = Connection.objects.get()
    assert connection.kind == Connection.Kind.PRIVATE_TOKEN
    assert crypto.decrypt(connection.access_token_enc) == hl.pit(hl.location_ids()[0])
    assert hl.pit(hl.location_ids()[0]) not in response.content.decode()
    assert Location.objects.get().name == "Downtown Dental"


@pytest.mark.django_db
def test_a_wrong_private_token_is_refused_and_nothing_is_saved(hl, admin_http):
    response = add_pit(admin_http, hl, token="pit-00000000-0000-0000-0000-000000000000")
    assert response.status_code == 200
    assert b"did not work" in response.content
    assert b"pit-00000000" not in response.content  # the form never echoes the token
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_a_token_for_another_location_is_refused(hl, admin_http):
    first, second = hl.location_ids()[:2]
    response = add_pit(admin_http, hl, token=hl.pit(first), location_id=second)
    assert b"did not work" in response.content
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_nonsense_in_the_form_gets_clear_errors(hl, admin_http):
    response = admin_http.post("/connections/private-token/", {"name": "", "location_id": "a b", "token": "x"})
    page = response.content.decode()
    assert "A location id is" in page and "does not look like a token" in page
    assert hl.stats()["requests"]["total"] == 0


@pytest.mark.django_db
def test_test_reports_result_and_latency(hl, admin_http):
    add_pit(admin_http, hl)
    connection = Connection.objects.get()
    page = admin_http.post(f"/connections/{connection.pk}/test/", follow=True).content.decode()
    assert "the token works" in page and " ms)" in page
    hl.revoke_tokens(all=True)
    page = admin_http.post(f"/connections/{connection.pk}/test/", follow=True).content.decode()
    assert "Failed" in page


@pytest.mark.django_db
def test_rotating_a_private_token_keeps_the_old_one_until_the_new_one_works(hl, admin_http):
    add_pit(admin_http, hl)
    connection = Connection.objects.get()
    before = connection.access_token_enc
    bad = admin_http.post(f"/connections/{connection.pk}/rotate/", {"token": "pit-not-a-real-token-value"})
    assert b"The current token is unchanged" in bad.content
    connection.refresh_from_db()
    assert connection.access_token_enc == before
    good = admin_http.post(f"/connections/{connection.pk}/rotate/", {"token": hl.pit(hl.location_ids()[0])},
                           follow=True)
    assert b"token replaced" in good.content
    assert AuditEntry.objects.filter(connection=connection, action=AuditEntry.Action.ROTATED).exists()


@pytest.mark.django_db
def test_rotating_an_oauth_connection_gets_a_new_pair(hl, admin_http):
    tokens = hl.oauth_tokens(f"location:{hl.location_ids()[0]}")
    from integrations.connections.tokens import save_grant
    from integrations.highlevel.parsing import parse_token_grant

    connection = Connection.objects.create(name="L", kind=Connection.Kind.OAUTH_LOCATION,
                                           location_id=tokens["locationId"], company_id=tokens["companyId"])
    save_grant(connection, parse_token_grant(tokens))
    admin_http.post(f"/connections/{connection.pk}/rotate/", follow=True)
    connection.refresh_from_db()
    assert crypto.decrypt(connection.refresh_token_enc) != tokens["refresh_token"]
    assert hl.stats()["token_grants"].get("refresh_token") == 1


@pytest.mark.django_db
def test_disconnect_forgets_tokens_and_keeps_the_data(hl, admin_http):
    add_pit(admin_http, hl)
    connection = Connection.objects.get()
    unconfirmed = admin_http.post(f"/connections/{connection.pk}/disconnect/", {})
    assert unconfirmed.status_code == 200  # the confirmation box is required
    page = admin_http.post(f"/connections/{connection.pk}/disconnect/", {"confirm": "on"}, follow=True)
    assert b"are kept" in page.content
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DISCONNECTED
    assert connection.access_token_enc == "" and connection.refresh_token_enc == ""
    assert Location.objects.filter(connection=connection).exists()


@pytest.mark.django_db
def test_the_connections_page_lists_what_an_admin_needs(hl, admin_http):
    add_pit(admin_http, hl)
    page = admin_http.get("/connections/").content.decode()
    for text in ("Downtown Dental", "Private Integration token", "Active", "Test", "Rotate", "Disconnect"):
        assert text in page
    assert "pit-" not in page


@pytest.mark.django_db
def test_an_admin_renames_a_connection_and_it_is_audited(hl, admin_http):
    add_pit(admin_http, hl)
    connection = Connection.objects.get()
    admin_http.post(f"/connections/{connection.pk}/rename/", {"name": "Northwind — Cedar Park"})
    connection.refresh_from_db()
    assert connection.name == "Northwind — Cedar Park"
    assert AuditEntry.objects.filter(connection=connection, action=AuditEntry.Action.RENAMED).exists()
    page = admin_http.post(f"/connections/{connection.pk}/rename/", {"name": "  "}, follow=True).content
    assert b"Give the connection a name" in page
