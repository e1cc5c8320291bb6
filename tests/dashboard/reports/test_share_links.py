"""Share links: made by admins and marketers, opened without an account from a snapshot (no HighLevel
request), headers, expiry, revocation, tampered tokens, the rate limit, and the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses

from dashboard.reports.models import ShareLink, share_token_digest
from dashboard.reports.render import report_html
from dashboard.reports.share import VIEWS_PER_MINUTE, share_link_create
from dashboard.reports.snapshot import report_snapshot
from integrations.models import Post
from tests.dashboard.reports.conftest import NOW, report_make


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def link(full_location, marketer_user):
    made, token = share_link_create(user=marketer_user, now=NOW, days=30, report=report_make(full_location))
    return made, token


def test_a_marketer_makes_a_link_and_the_client_opens_it_without_an_account(full_location, marketer_http, client,
                                                                            clock):
    report = report_make(full_location, name="Acme for the client")
    response = marketer_http.post(f"/reports/{report.pk}/share/", {"days": "14"}, follow=True)
    url = response.context["new_url"]
    assert url and "Copy it now" in response.text
    stored = ShareLink.objects.get()
    assert stored.expires_at == NOW + timedelta(days=14) and stored.created_by.email == "marketer@example.com"
    assert stored.digest == share_token_digest(token_of(url)) and token_of(url) not in json.dumps(stored.snapshot)
    assert len(token_of(url)) >= 43
    client.logout()
    with responses.RequestsMock() as calls:  # any request to HighLevel (or anywhere) would fail the test
        page = client.get(f"/share/{token_of(url)}/")
        assert len(calls.calls) == 0
    assert page.status_code == 200 and "Acme for the client" in page.text and "Key figures" in page.text
    assert page["X-Robots-Tag"].startswith("noindex") and page["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in page["Content-Security-Policy"]  # default-src 'none': no script at all
    stored.refresh_from_db()
    assert stored.views == 1 and stored.last_viewed_at == NOW
    # shown once: reloading the "new link" page does not show the token again
    client.force_login(stored.created_by)
    assert marketer_http.get(f"/reports/links/{stored.pk}/").context["new_url"] is None


def test_the_share_page_is_the_snapshot_not_todays_data(link, client, full_location):
    made, token = link
    Post.objects.filter(location=full_location).update(likes=100000)
    assert "100,000" in report_html(report_snapshot(made.report, now=NOW))  # today's data has it...
    assert "100,000" not in client.get(f"/share/{token}/").text  # ...the link shows what it was made from


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
    lambda t: t[:-2],  # cut short
    lambda t: t.upper(),
    lambda t: share_token_digest(t),  # the stored digest itself is not a token
    lambda t: "x" * 500,
])
def test_a_tampered_token_is_not_found(link, client, mangle):
    _made, token = link
    assert client.get(f"/share/{mangle(token)}/").status_code == 404


def test_an_expired_link_is_not_found(link, client, clock):
    made, token = link
    clock.move_to(made.expires_at - timedelta(seconds=1))
    assert client.get(f"/share/{token}/").status_code == 200
    clock.move_to(made.expires_at)
    assert client.get(f"/share/{token}/").status_code == 404


def test_a_revoked_link_is_not_found_and_only_its_creator_or_an_admin_revokes(link, client, make_user, admin_user):
    made, token = link
    other = make_user("other@example.com", "Marketer")
    client.force_login(other)
    client.post(f"/reports/links/{made.pk}/revoke/")
    assert client.get(f"/share/{token}/").status_code == 200  # another marketer may not
    client.force_login(admin_user)
    client.post(f"/reports/links/{made.pk}/revoke/")
    assert client.get(f"/share/{token}/").status_code == 404
    assert ShareLink.objects.get().revoked_by == admin_user


def test_the_live_list_names_creator_views_and_last_view(link, admin_http, client):
    made, token = link
    client.get(f"/share/{token}/")
    page = admin_http.get("/reports/links/")
    assert "marketer@example.com" in page.text and made.title in page.text
    assert list(page.context["links"]) == [made]
    made.refresh_from_db()
    assert made.views == 1


def test_a_link_is_rate_limited(link, client):
    _made, token = link
    statuses = [client.get(f"/share/{token}/").status_code for _ in range(VIEWS_PER_MINUTE + 1)]
    assert statuses[:-1] == [200] * VIEWS_PER_MINUTE and statuses[-1] == 429


# --- the API ---------------------------------------------------------------------------------------------

def post_json(http, url, body):
    return http.post(url, data=json.dumps(body) if not isinstance(body, bytes) else body,
                     content_type="application/json")


def test_the_api_makes_a_link_for_a_location(full_location, marketer_http, client, clock):
    response = post_json(marketer_http, f"/api/v1/locations/{full_location.location_id}/share-links/", {"days": 7})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "expires_at"}
    assert body["expires_at"] == (NOW + timedelta(days=7)).isoformat()
    client.logout()
    page = client.get(f"/share/{token_of(body['url'])}/")
    assert page.status_code == 200 and "Acme Bakery: the last 30 days" in page.text


def test_the_api_defaults_to_thirty_days(full_location, admin_http, clock):
    response = post_json(admin_http, f"/api/v1/locations/{full_location.location_id}/share-links/", {})
    assert response.status_code == 201 and response.json()["expires_at"] == (NOW + timedelta(days=30)).isoformat()


@pytest.mark.parametrize("body", [{"days": 0}, {"days": 91}, {"days": "ten"}, {"days": 2.5}, {"days": True},
                                  {"days": None, "report_id": "x"}, [1], b"{nope"])
def test_the_api_refuses_bad_days_with_400(full_location, admin_http, body):
    response = post_json(admin_http, f"/api/v1/locations/{full_location.location_id}/share-links/", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    assert not ShareLink.objects.exists()


def test_the_api_deletes_a_link_for_its_creator_or_an_admin(full_location, make_user, client, admin_user):
    creator, other = make_user("c@example.com", "Marketer"), make_user("o@example.com", "Marketer")
    client.force_login(creator)
    link_id = post_json(client, f"/api/v1/locations/{full_location.location_id}/share-links/", {"days": 3}).json()["id"]
    client.force_login(other)
    assert client.delete(f"/api/v1/share-links/{link_id}/").status_code == 403
    client.force_login(creator)
    assert client.delete(f"/api/v1/share-links/{link_id}/").status_code == 204
    assert ShareLink.objects.get().revoked_at is not None
    client.force_login(admin_user)
    second = post_json(client, f"/api/v1/locations/{full_location.location_id}/share-links/", {}).json()["id"]
    client.force_login(creator)
    assert client.delete(f"/api/v1/share-links/{second}/").status_code == 403
    client.force_login(admin_user)
    assert client.delete(f"/api/v1/share-links/{second}/").status_code == 204
    assert client.delete("/api/v1/share-links/999999/").status_code == 404


def test_the_api_needs_a_signed_in_user(full_location, client):
    response = post_json(client, f"/api/v1/locations/{full_location.location_id}/share-links/", {"days": 3})
    assert response.status_code == 401
