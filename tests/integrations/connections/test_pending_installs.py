"""Callbacks without `state` (marketplace-started installs) and forged states: nothing connects by itself."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.utils import timezone

from integrations import crypto
from integrations.connections.installs import pending_installs_purge
from integrations.highlevel.oauth import USER_TYPE_COMPANY, USER_TYPE_LOCATION, required_scopes
from integrations.models import AuditEntry, Connection, PendingInstall
from tests.integrations.connections.test_oauth_flow import consent


def marketplace_code(hl, choice: str) -> str:
    """A code from the consent page answered without any `state`, as an install started in HighLevel."""
    user_type = USER_TYPE_COMPANY if choice.startswith("company:") else USER_TYPE_LOCATION
    query = urlencode({"response_type": "code", "client_id": hl.state()["client_id"],
                       "redirect_uri": "http://testserver/connections/oauth/callback/",
                       "scope": " ".join(required_scopes(user_type))})
    back = consent(hl, {"Location": f"{hl.url}/oauth/chooselocation?{query}"}, choice)
    assert "state" not in back
    return back["code"]


@pytest.mark.django_db
def test_a_callback_without_state_connects_nothing_even_with_a_flow_pending(hl, admin_http):
    """The login-CSRF of issue 17: the admin's browser starts a flow, the attacker's code comes back
    without state. It used to be bound to the session's newest flow and connected."""
    admin_http.get("/connections/oauth/start/?install=location")
    code = marketplace_code(hl, f"location:{hl.location_ids()[0]}")
    response = admin_http.get("/connections/oauth/callback/", {"code": code})
    assert Connection.objects.count() == 0
    pending = PendingInstall.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/connections/installs/{pending.pk}/"


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["", "forged", "x" * 43])
def test_a_state_that_names_no_flow_of_this_session_is_403_and_creates_nothing(hl, admin_http, state):
    start = admin_http.get("/connections/oauth/start/?install=location")
    back = consent(hl, start, f"location:{hl.location_ids()[0]}")
    response = admin_http.get("/connections/oauth/callback/", {**back, "state": state})
    assert response.status_code == 403
    assert Connection.objects.count() == 0 and PendingInstall.objects.count() == 0


@pytest.mark.django_db
def test_a_pending_location_install_shows_what_it_would_connect_and_connects_on_confirm(hl, admin_http):
    location = hl.state()["locations"][0]
    code = marketplace_code(hl, f"location:{location['id']}")
    page = admin_http.get("/connections/oauth/callback/", {"code": code}, follow=True)
    text = page.content.decode()
    assert "Confirm a HighLevel install" in text
    assert location["id"] in text and location["name"] in text
    assert "socialplanner/tag.readonly" in text and "locations.readonly" in text
    pending = PendingInstall.objects.get()
    assert crypto.decrypt(pending.access_token_enc).startswith("sbxat_")  # encrypted at rest
    assert "sbxat_" not in text

    admin_http.post(f"/connections/installs/{pending.pk}/confirm/")
    connection = Connection.objects.get()
    assert connection.location_id == location["id"]
    assert connection.locations.get().name == location["name"]  # the name the admin saw
    assert crypto.decrypt(connection.access_token_enc).startswith("sbxat_")
    assert not PendingInstall.objects.exists()
    confirmed = AuditEntry.objects.get(action=AuditEntry.Action.INSTALL_CONFIRMED)
    assert confirmed.actor is not None and confirmed.ip_address == "127.0.0.1"
    assert admin_http.post(f"/connections/installs/{pending.pk}/confirm/").status_code == 302
    assert Connection.objects.count() == 1  # a second confirm connects nothing more


@pytest.mark.django_db
def test_a_pending_agency_install_lists_its_locations(hl, admin_http):
    agency = hl.state()["agencies"][0]
    code = marketplace_code(hl, f"company:{agency['id']}")
    text = admin_http.get("/connections/oauth/callback/", {"code": code}, follow=True).content.decode()
    assert "An agency" in text and agency["id"] in text
    names = [loc["name"] for loc in hl.state()["locations"] if loc["companyId"] == agency["id"]]
    assert names and all(name in text for name in names[:3])
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_discard_deletes_the_grant_and_connects_nothing(hl, admin_http):
    admin_http.get("/connections/oauth/callback/", {"code": marketplace_code(hl, f"location:{hl.location_ids()[0]}")})
    pending = PendingInstall.objects.get()
    admin_http.post(f"/connections/installs/{pending.pk}/discard/")
    assert not PendingInstall.objects.exists() and not Connection.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.INSTALL_DISCARDED).count() == 1


@pytest.mark.django_db
def test_confirm_and_discard_are_posts_with_csrf(hl, admin_user, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    strict.get("/connections/oauth/callback/", {"code": marketplace_code(hl, f"location:{hl.location_ids()[0]}")})
    pending = PendingInstall.objects.get()
    assert strict.get(f"/connections/installs/{pending.pk}/confirm/").status_code == 405
    assert strict.post(f"/connections/installs/{pending.pk}/confirm/").status_code == 403
    assert strict.post(f"/connections/installs/{pending.pk}/discard/").status_code == 403
    assert PendingInstall.objects.count() == 1 and Connection.objects.count() == 0


@pytest.mark.django_db
def test_a_marketer_cannot_see_or_confirm_a_pending_install(hl, admin_http, marketer_user):
    admin_http.get("/connections/oauth/callback/", {"code": marketplace_code(hl, f"location:{hl.location_ids()[0]}")})
    pending = PendingInstall.objects.get()
    admin_http.logout()
    admin_http.force_login(marketer_user)
    assert admin_http.get(f"/connections/installs/{pending.pk}/").status_code == 403
    assert admin_http.post(f"/connections/installs/{pending.pk}/confirm/").status_code == 403
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_an_install_nobody_confirms_within_15_minutes_is_deleted_with_its_tokens(hl, admin_http):
    admin_http.get("/connections/oauth/callback/", {"code": marketplace_code(hl, f"location:{hl.location_ids()[0]}")})
    pending = PendingInstall.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert pending_installs_purge() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        response = admin_http.post(f"/connections/installs/{pending.pk}/confirm/", follow=True)
    assert b"no longer pending" in response.content
    assert not PendingInstall.objects.exists() and not Connection.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.INSTALL_EXPIRED).count() == 1


@pytest.mark.django_db
def test_the_schedule_purges_unconfirmed_installs(hl, admin_http):
    from integrations import tasks
    from integrations.schedules import PENDING_INSTALLS_PURGE, wanted_schedules

    assert any(s["name"] == PENDING_INSTALLS_PURGE and s["func"] == "integrations.tasks.pending_installs_purge"
               for s in wanted_schedules())
    admin_http.get("/connections/oauth/callback/", {"code": marketplace_code(hl, f"location:{hl.location_ids()[0]}")})
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert tasks.pending_installs_purge() == 1
    assert not PendingInstall.objects.exists()


@pytest.mark.django_db
def test_a_refusal_without_state_saves_nothing(hl, admin_http):
    response = admin_http.get("/connections/oauth/callback/", {"error": "access_denied"}, follow=True)
    assert b"You declined" in response.content
    assert not PendingInstall.objects.exists() and not Connection.objects.exists()


@pytest.mark.django_db
def test_a_flow_started_here_still_connects_directly(hl, admin_http):
    start = admin_http.get("/connections/oauth/start/?install=location")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    back = consent(hl, start, f"location:{hl.location_ids()[0]}")
    assert back["state"] == state
    admin_http.get("/connections/oauth/callback/", back)
    assert Connection.objects.count() == 1 and not PendingInstall.objects.exists()
