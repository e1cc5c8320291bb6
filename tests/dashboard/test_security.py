"""Security properties every page shares: CSRF tokens in every POST form, and the security headers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.dashboard.test_url_permissions import EXPECTED, OK

POST = re.compile(r'method=["\']?post', re.I)


def _admin_pages():
    for name, (kwargs, method, expectations) in EXPECTED.items():
        if method == "get" and expectations["admin"] == OK and "pk" not in kwargs and "token_id" not in kwargs:
            yield name, kwargs


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), list(_admin_pages()), ids=[n for n, _ in _admin_pages()])
def test_every_page_has_csrf_in_post_forms_and_no_inline_script(admin_http, name, kwargs):
    response = admin_http.get(reverse(name, kwargs=kwargs), follow=True)
    html = response.content.decode()
    for match in re.finditer(r"<form\b[^>]*>", html, re.I):
        if POST.search(match.group(0)):
            body = html[match.end(): html.find("</form>", match.end())]
            assert "csrfmiddlewaretoken" in body, f"{name}: a POST form without a CSRF token"
    executable_inline = [
        tag for tag in re.findall(r"<script\b[^>]*>", html, re.I)
        if "src=" not in tag and "application/json" not in tag
    ]
    assert executable_inline == [], f"{name}: inline script tags break the CSP: {executable_inline}"


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused(admin_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post("/connections/private-token/", {"location_id": "x", "token": "y"}).status_code == 403


@pytest.mark.django_db
def test_hsts_is_sent_behind_tls_and_not_over_plain_http(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    over_tls = client.get("/accounts/login/", secure=True)
    assert over_tls["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")


@pytest.mark.django_db
def test_the_proxy_header_marks_requests_as_tls(client, settings):
    settings.SECURE_HSTS_SECONDS = 60
    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.has_header("Strict-Transport-Security")


@pytest.mark.django_db
def test_pages_carry_a_strict_csp_and_the_usual_headers(admin_http):
    response = admin_http.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
