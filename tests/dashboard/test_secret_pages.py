"""Pages that show a secret are never cached, and the secret does not wait in the session."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.sessions.models import Session
from django.utils import timezone

from integrations.models.delivery import Destination

NEW = {"name": "CRM", "url": "https://crm.example.com/hooks", "event_types": ["tag.created"]}


def _sessions_text() -> str:
    return "\n".join(json.dumps(s.get_decoded()) for s in Session.objects.all())


def _shown_secret(html: str) -> str | None:
    marker = 'id="signing-secret">'
    return html.split(marker, 1)[1].split("<", 1)[0] if marker in html else None


@pytest.fixture
def resolving(monkeypatch):
    """crm.example.com resolves to a public address (no DNS in tests)."""
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("93.184.216.34", 443))])


@pytest.mark.django_db
def test_a_new_signing_secret_is_shown_once_uncached_and_then_gone_from_the_session(admin_http, resolving):
    created = admin_http.post("/destinations/new/", NEW)
    assert created.status_code == 302
    destination = Destination.objects.get()
    assert "whsec_" not in _sessions_text()  # waiting for the redirect, it is encrypted
    page = admin_http.get(created["Location"])
    secret = _shown_secret(page.content.decode())
    assert secret and secret.startswith("whsec_")
    assert "no-store" in page["Cache-Control"]
    assert secret not in _sessions_text() and "secret_once" not in _sessions_text()
    again = admin_http.get(f"/destinations/{destination.pk}/")
    assert _shown_secret(again.content.decode()) is None and "no-store" in again["Cache-Control"]


@pytest.mark.django_db
def test_a_secret_not_collected_at_once_is_dropped(admin_http, resolving):
    admin_http.post("/destinations/new/", NEW)
    first = Destination.objects.get()
    admin_http.post("/destinations/new/", {**NEW, "name": "Other"})
    other = Destination.objects.exclude(pk=first.pk).get()
    admin_http.get(f"/destinations/{first.pk}/")  # another destination's page: nothing shown, and it is dropped
    assert _shown_secret(admin_http.get(f"/destinations/{other.pk}/").content.decode()) is None
    admin_http.post(f"/destinations/{first.pk}/rotate/", {"overlap": "0"})
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert _shown_secret(admin_http.get(f"/destinations/{first.pk}/").content.decode()) is None
    assert "secret_once" not in _sessions_text()


@pytest.mark.django_db
def test_the_profile_page_showing_a_new_api_token_is_not_cached(admin_http):
    response = admin_http.post("/profile/", {"name": "Looker"})
    assert "tsk_" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_mfa_pages_that_show_secrets_are_not_cached(admin_http, admin_user):
    assert "no-store" in admin_http.get("/accounts/2fa/totp/activate/")["Cache-Control"]
    TOTP.activate(admin_user, generate_totp_secret())
    response = admin_http.get("/accounts/2fa/recovery-codes/generate/")
    assert "no-store" in response["Cache-Control"]
