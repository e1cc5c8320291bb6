"""Behind TRUSTED_PROXY_COUNT proxies the client's address comes from X-Forwarded-For: each user gets their own
sign-in rate-limit bucket, and the audit trail records them, not the proxy."""

from __future__ import annotations

import pytest

from integrations.models import AuditEntry, Connection

PROXY = "10.0.0.5"


@pytest.fixture
def behind_one_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}


LOCKED = "Too many failed login attempts"


def _fail_sign_in(client, forwarded_for: str) -> str:
    response = client.post("/accounts/login/", {"login": "nobody@example.com", "password": "wrong-password"},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    return "locked" if LOCKED in response.content.decode() else "refused"


@pytest.mark.django_db
def test_one_users_failed_sign_ins_do_not_lock_out_another_behind_the_same_proxy(behind_one_proxy, client):
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        assert _fail_sign_in(client, "198.51.100.1") == "refused"
    assert _fail_sign_in(client, "198.51.100.1") == "locked"
    assert _fail_sign_in(client, "198.51.100.2") == "refused"  # another person, their own bucket
    # A client cannot pick its bucket: the proxy appends what it saw, the last entry is the one trusted.
    assert _fail_sign_in(client, "203.0.113.9, 198.51.100.1") == "locked"


@pytest.mark.django_db
def test_the_audit_trail_records_the_client_not_the_proxy(behind_one_proxy, admin_http):
    connection = Connection.objects.create(name="Acme", kind=Connection.Kind.OAUTH_AGENCY, company_id="C1")
    admin_http.post(f"/connections/{connection.pk}/rename/", {"name": "Acme agency"},
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AuditEntry.objects.get(action=AuditEntry.Action.RENAMED).ip_address == "198.51.100.7"


@pytest.mark.django_db
def test_without_trusted_proxies_a_forwarded_header_is_ignored(admin_http, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    connection = Connection.objects.create(name="Acme", kind=Connection.Kind.OAUTH_AGENCY, company_id="C1")
    admin_http.post(f"/connections/{connection.pk}/rename/", {"name": "Acme agency"},
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AuditEntry.objects.get(action=AuditEntry.Action.RENAMED).ip_address == PROXY
