"""The OAuth connect flow through Tagscope's own views, against the live sandbox's consent page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations import crypto
from integrations.models import AuditEntry, Connection, Location


def consent(hl, start_response, choice: str, scope: str | None = None) -> dict[str, str]:
    """Follow Tagscope's redirect to the sandbox consent page and answer it like a person would."""
    location = start_response["Location"]
    assert location.startswith(f"{hl.url}/oauth/chooselocation?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if scope is not None:
        params["scope"] = scope
    page = requests.get(f"{hl.url}/oauth/chooselocation", params=params, timeout=10)
    assert page.status_code == 200
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    answer = requests.post(f"{hl.url}/oauth/chooselocation", data={**form, "choice": choice},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/connections/oauth/callback/"
    return {k: v[0] for k, v in parse_qs(back.query).items()}


@pytest.mark.django_db
def test_an_admin_connects_one_location(hl, admin_http):
    location_id = hl.location_ids()[0]
    start = admin_http.get("/connections/oauth/start/?install=location")
    params = parse_qs(urlsplit(start["Location"]).query)
    assert params["scope"][0].split() == [
        "socialplanner/tag.readonly", "socialplanner/account.readonly",
        "socialplanner/statistics.readonly", "socialplanner/post.readonly", "locations.readonly",
    ]
    assert params["redirect_uri"] == ["http://testserver/connections/oauth/callback/"]
    back = consent(hl, start, f"location:{location_id}")
    response = admin_http.get("/connections/oauth/callback/", back, follow=True)
    assert response.status_code == 200
    connection = Connection.objects.get()
    assert connection.kind == Connection.Kind.OAUTH_LOCATION
    assert connection.location_id == location_id
    assert crypto.decrypt(connection.access_token_enc).startswith("sbxat_")
    assert Location.objects.get(location_id=location_id).connection == connection
    assert b"Connected" in response.content
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CONNECTED, connection=connection).exists()


@pytest.mark.django_db
def test_an_agency_install_lists_its_locations(hl, admin_http):
    company_id = hl.state()["agencies"][0]["id"]
    start = admin_http.get("/connections/oauth/start/?install=agency")
    assert "oauth.write" in parse_qs(urlsplit(start["Location"]).query)["scope"][0]
    back = consent(hl, start, f"company:{company_id}")
    admin_http.get("/connections/oauth/callback/", back)
    connection = Connection.objects.get()
    assert connection.kind == Connection.Kind.OAUTH_AGENCY
    expected = {loc["id"] for loc in hl.state()["locations"] if loc["companyId"] == company_id}
    assert set(connection.locations.values_list("location_id", flat=True)) == expected
    names = set(connection.locations.values_list("name", flat=True))
    assert not any(name.startswith("Location ") for name in names)  # real names came from HighLevel


@pytest.mark.django_db
def test_reconnecting_the_same_location_updates_the_connection_instead_of_a_twin(hl, admin_http):
    location_id = hl.location_ids()[0]
    for _ in range(2):
        start = admin_http.get("/connections/oauth/start/?install=location")
        admin_http.get("/connections/oauth/callback/", consent(hl, start, f"location:{location_id}"))
    assert Connection.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.RECONNECTED).count() == 1


@pytest.mark.django_db
def test_a_reused_or_unknown_state_is_refused_with_403(hl, admin_http):
    start = admin_http.get("/connections/oauth/start/?install=location")
    back = consent(hl, start, f"location:{hl.location_ids()[0]}")
    assert admin_http.get("/connections/oauth/callback/", back).status_code == 302
    reused = admin_http.get("/connections/oauth/callback/", back)
    assert reused.status_code == 403
    assert b"not valid" in reused.content
    assert admin_http.get("/connections/oauth/callback/", {**back, "state": "forged"}).status_code == 403
    assert Connection.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_on_the_consent_page_saves_nothing(hl, admin_http):
    start = admin_http.get("/connections/oauth/start/?install=location")
    back = consent(hl, start, "deny")
    assert back["error"] == "access_denied"
    response = admin_http.get("/connections/oauth/callback/", back, follow=True)
    assert b"You declined" in response.content
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_a_spent_code_gives_a_clear_message_not_a_500(hl, admin_http):
    start = admin_http.get("/connections/oauth/start/?install=location")
    back = consent(hl, start, f"location:{hl.location_ids()[0]}")
    hl.exchange(grant_type="authorization_code", code=back["code"],
                redirect_uri="http://testserver/connections/oauth/callback/")  # someone used it first
    response = admin_http.get("/connections/oauth/callback/", back, follow=True)
    assert response.status_code == 200
    assert b"could not be completed" in response.content
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_missing_scopes_save_a_limited_connection_with_an_explanation(hl, admin_http):
    start = admin_http.get("/connections/oauth/start/?install=location")
    back = consent(hl, start, f"location:{hl.location_ids()[0]}",
                   scope="socialplanner/tag.readonly socialplanner/account.readonly")
    page = admin_http.get("/connections/oauth/callback/", back, follow=True).content.decode()
    assert "Limited connection" in page
    assert "statistics charts will stay empty" in page
    assert Connection.objects.get().status == Connection.Status.ACTIVE


@pytest.mark.django_db
def test_without_a_code_the_admin_is_told_so(hl, admin_http):
    start = admin_http.get("/connections/oauth/start/?install=location")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    page = admin_http.get("/connections/oauth/callback/", {"state": state}, follow=True).content
    assert b"without an authorization code" in page
