"""Every URL of the project, walked as anonymous, marketer and admin.

A view of ours that is not listed in EXPECTED fails `test_every_url_is_listed`, and a view without a
`@requires(...)` declaration fails `test_every_view_declares_its_permissions`: a new page cannot
forget its check. Third-party URL trees (allauth, Django admin) are checked through their entry points.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

LOGIN = "login"  # anonymous: redirected to the sign-in page
OK = "ok"  # served (2xx, or a redirect that is not to sign-in)
FORBIDDEN = "forbidden"  # 403
HEALTH = "health"  # 200 or 503: a public probe whose answer depends on the worker
UNSIGNED = "unsigned"  # public, but a request without a valid signature gets 401
API_LOGIN = "api-login"  # the JSON API: anonymous gets a JSON 401, never a redirect

ADMIN_ONLY = {"anonymous": LOGIN, "marketer": FORBIDDEN, "admin": OK}
SIGNED_IN = {"anonymous": LOGIN, "marketer": OK, "admin": OK}
API_SIGNED_IN = {"anonymous": API_LOGIN, "marketer": OK, "admin": OK}
MISSING = {"pk": 999999}  # object pages: the permission check runs before the lookup (admin sees 404)
NO_LOCATION = {"location_id": "missing-location"}
NO_TAG = {**NO_LOCATION, "tag_id": "missing-tag"}

# name -> (kwargs, method, {role: expectation})
EXPECTED: dict[str, tuple[dict, str, dict[str, str]]] = {
    "home": ({}, "get", SIGNED_IN),
    "location_tags": (NO_LOCATION, "get", SIGNED_IN),
    "tag_detail": (NO_TAG, "get", SIGNED_IN),
    "location_refresh": (NO_LOCATION, "post", ADMIN_ONLY),
    "location_statistics": (NO_LOCATION, "get", SIGNED_IN),
    "statistics": ({}, "get", SIGNED_IN),
    "location_goals": (NO_LOCATION, "get", SIGNED_IN),
    "location_goals_edit": (NO_LOCATION, "post", ADMIN_ONLY),
    "api_locations": ({}, "get", API_SIGNED_IN),
    "api_tags": (NO_LOCATION, "get", API_SIGNED_IN),
    "api_tag": (NO_TAG, "get", API_SIGNED_IN),
    "api_statistics": (NO_LOCATION, "get", API_SIGNED_IN),
    "api_agency_statistics": ({}, "get", API_SIGNED_IN),
    "api_run": ({"run_id": 999999}, "get", API_SIGNED_IN),
    "tag_performance": (NO_LOCATION, "get", SIGNED_IN),
    "best_time": (NO_LOCATION, "get", SIGNED_IN),
    "campaigns": ({}, "get", SIGNED_IN),
    "campaign_detail": ({"slug": "missing-campaign"}, "get", SIGNED_IN),
    "campaign_merge": ({"slug": "missing-campaign"}, "post", ADMIN_ONLY),
    "campaign_split": ({"slug": "missing-campaign"}, "post", ADMIN_ONLY),
    "api_tag_performance": (NO_LOCATION, "get", API_SIGNED_IN),
    "api_campaigns": ({}, "get", API_SIGNED_IN),
    "api_campaign": ({"slug": "missing-campaign"}, "get", API_SIGNED_IN),
    "api_refresh": (NO_LOCATION, "post", {"anonymous": API_LOGIN, "marketer": FORBIDDEN, "admin": OK}),
    "healthz": ({}, "get", {"anonymous": HEALTH, "marketer": HEALTH, "admin": HEALTH}),
    "connections": ({}, "get", ADMIN_ONLY),
    "oauth_start": ({}, "get", ADMIN_ONLY),
    # Without state or code: an admin is told that nothing came back (a redirect to Connections).
    "oauth_callback": ({}, "get", ADMIN_ONLY),
    "pending_install": (MISSING, "get", ADMIN_ONLY),
    "pending_install_confirm": (MISSING, "post", ADMIN_ONLY),
    "pending_install_discard": (MISSING, "post", ADMIN_ONLY),
    "private_token_add": ({}, "get", ADMIN_ONLY),
    "connection_detail": (MISSING, "get", ADMIN_ONLY),
    "connection_test": (MISSING, "post", ADMIN_ONLY),
    "connection_rename": (MISSING, "post", ADMIN_ONLY),
    "connection_rotate": (MISSING, "get", ADMIN_ONLY),
    "connection_disconnect": (MISSING, "get", ADMIN_ONLY),
    "connection_schedule": (MISSING, "post", ADMIN_ONLY),
    "connection_try_v3": (MISSING, "post", ADMIN_ONLY),
    "destinations": ({}, "get", ADMIN_ONLY),
    "destination_add": ({}, "get", ADMIN_ONLY),
    # Outside DEBUG the demo receiver does not exist: an admin gets 404.
    "destination_add_demo": ({}, "post", ADMIN_ONLY),
    "destination_detail": (MISSING, "get", ADMIN_ONLY),
    "destination_edit": (MISSING, "get", ADMIN_ONLY),
    "destination_rotate": (MISSING, "get", ADMIN_ONLY),
    "destination_pause": (MISSING, "post", ADMIN_ONLY),
    "destination_resume": (MISSING, "post", ADMIN_ONLY),
    "destination_delete": (MISSING, "get", ADMIN_ONLY),
    "destination_test": (MISSING, "post", ADMIN_ONLY),
    "mapping_edit": ({**MISSING, "event_type": "tag.created"}, "get", ADMIN_ONLY),
    "mapping_preview": ({**MISSING, "event_type": "tag.created"}, "post", ADMIN_ONLY),
    "delivery_redeliver": ({**MISSING, "delivery_id": 999999}, "post", ADMIN_ONLY),
    "deliveries_redeliver_failed": (MISSING, "post", ADMIN_ONLY),
    "operations": ({}, "get", ADMIN_ONLY),
    "operations_digest": ({}, "get", ADMIN_ONLY),
    "operations_digest_html": ({}, "get", ADMIN_ONLY),
    "operations_runs": ({}, "get", ADMIN_ONLY),
    "operations_runs_retry_failed": ({}, "post", ADMIN_ONLY),
    "operations_run": (MISSING, "get", ADMIN_ONLY),
    "operations_run_retry": (MISSING, "post", ADMIN_ONLY),
    "operations_run_cancel": (MISSING, "post", ADMIN_ONLY),
    "operations_alerts": ({}, "get", ADMIN_ONLY),
    "operations_alert_ack": (MISSING, "post", ADMIN_ONLY),
    "operations_rules": ({}, "get", ADMIN_ONLY),
    "operations_rule_edit": (MISSING, "get", ADMIN_ONLY),
    "operations_rule_delete": (MISSING, "post", ADMIN_ONLY),
    "profile": ({}, "get", {"anonymous": LOGIN, "marketer": OK, "admin": OK}),
    "profile_digest": ({}, "post", {"anonymous": LOGIN, "marketer": OK, "admin": OK}),
    "api_token_revoke": ({"token_id": 999999}, "post", {"anonymous": LOGIN, "marketer": OK, "admin": OK}),
    "reports": ({}, "get", SIGNED_IN),
    "report_add": ({}, "get", SIGNED_IN),
    "report_detail": (MISSING, "get", SIGNED_IN),
    "report_edit": (MISSING, "get", SIGNED_IN),
    "report_delete": (MISSING, "post", SIGNED_IN),
    "report_pdf": (MISSING, "get", SIGNED_IN),
    "report_csv": (MISSING, "get", SIGNED_IN),
    "report_send": (MISSING, "post", SIGNED_IN),
    "report_share": (MISSING, "post", SIGNED_IN),
    "report_deliveries": ({}, "get", SIGNED_IN),
    "report_delivery": (MISSING, "get", SIGNED_IN),
    "report_delivery_approve": (MISSING, "post", SIGNED_IN),
    "report_delivery_discard": (MISSING, "post", SIGNED_IN),
    "report_delivery_resend": (MISSING, "post", SIGNED_IN),
    "share_links": ({}, "get", SIGNED_IN),
    "share_links_new": (MISSING, "get", SIGNED_IN),
    "share_link_revoke": (MISSING, "post", SIGNED_IN),
    "branding": ({}, "get", ADMIN_ONLY),
    # Anyone may ask; a token that opens nothing is a 404 for everyone.
    "share_page": ({"token": "not-a-token"}, "get", {"anonymous": OK, "marketer": OK, "admin": OK}),
    "api_share_links": (NO_LOCATION, "post", API_SIGNED_IN),
    "api_share_link": ({"link_id": 999999}, "delete", API_SIGNED_IN),
    "highlevel_webhook": ({}, "post", {"anonymous": UNSIGNED, "marketer": UNSIGNED, "admin": UNSIGNED}),
}
THIRD_PARTY_PREFIXES = ("accounts/", "admin/")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _ours(pattern: URLPattern) -> bool:
    module = getattr(pattern.callback, "__module__", "")
    return module.startswith(("dashboard.", "integrations."))


def test_every_url_is_listed():
    unlisted = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if _ours(pattern):
            if pattern.name not in EXPECTED:
                unlisted.append(f"{route} (name={pattern.name})")
        elif not route.startswith(THIRD_PARTY_PREFIXES):
            unlisted.append(f"{route}: third-party view outside {THIRD_PARTY_PREFIXES}")
    assert not unlisted, "URLs missing from EXPECTED in this test:\n" + "\n".join(unlisted)


def test_every_view_declares_its_permissions():
    undeclared = [
        route
        for route, pattern in _walk(get_resolver().url_patterns)
        if _ours(pattern) and not getattr(pattern.callback, "tagscope_permissions", None)
    ]
    assert not undeclared, f"views without @requires(...): {undeclared}"


@pytest.fixture
def as_role(client, make_user):
    def login(role: str):
        if role == "marketer":
            client.force_login(make_user("m@example.com", "Marketer"))
        elif role == "admin":
            client.force_login(make_user("a@example.com", "Admin"))
        return client

    return login


def _check(response, expectation: str, url: str) -> None:
    status = response.status_code
    location = response.get("Location", "")
    if expectation == LOGIN:
        assert status == 302 and "/accounts/login/" in location, f"{url}: {status} {location}"
    elif expectation == FORBIDDEN:
        assert status == 403, f"{url}: {status}"
    elif expectation == HEALTH:
        assert status in (200, 503), f"{url}: {status}"
    elif expectation == UNSIGNED:
        assert status == 401, f"{url}: {status}"
    elif expectation == API_LOGIN:
        assert status == 401 and response.json()["error"]["code"] == "unauthenticated", f"{url}: {status}"
    else:
        assert status < 400 or status == 404, f"{url}: {status}"
        assert "/accounts/login/" not in location, f"{url}: sent to sign in"


@pytest.mark.parametrize("role", ["anonymous", "marketer", "admin"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_who_gets_what(name, role, as_role):
    kwargs, method, expectations = EXPECTED[name]
    http = as_role(role)
    url = reverse(name, kwargs=kwargs)
    _check(getattr(http, method)(url), expectations[role], url)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", LOGIN), ("marketer", FORBIDDEN), ("admin", OK)]
)
def test_django_admin_goes_through_allauth_and_staff_only(role, expected, as_role):
    http = as_role(role)
    response = http.get("/admin/")
    if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
        response = http.get(response["Location"])
    _check(response, expected, "/admin/")


def test_sign_in_page_is_public_and_sign_up_is_closed(client, db):
    assert client.get("/accounts/login/").status_code == 200
    response = client.get("/accounts/signup/")
    assert b"Sign Up Closed" in response.content or response.status_code == 403
