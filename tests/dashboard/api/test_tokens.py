"""Personal API tokens: they expire (90 days unless chosen when issued), are refused for a user without MFA
when MFA is required, and the profile page shows their expiry and last use."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.test import Client

from dashboard.api_tokens import api_token_issue
from dashboard.models import ApiToken

pytestmark = pytest.mark.django_db

ISSUED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def get(client: Client, raw: str):
    return client.get("/api/v1/locations/", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_a_token_expires_after_90_days_by_default(marketer_user, client):
    with time_machine.travel(ISSUED, tick=False):
        row, raw = api_token_issue(user=marketer_user, name="script")
    assert row.expires_at == ISSUED + timedelta(days=90)
    with time_machine.travel(ISSUED + timedelta(days=89, hours=23), tick=False):
        assert get(client, raw).status_code == 200
    with time_machine.travel(ISSUED + timedelta(days=90, seconds=1), tick=False):
        refused = get(client, raw)
    assert refused.status_code == 401
    assert refused.json()["error"] == {
        "code": "token_expired", "message": "The API token expired on 2026-05-30; create a new one on your profile."}


def test_issue_api_token_days_sets_the_expiry(marketer_user, client):
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(ISSUED, tick=False):
        call_command("issue_api_token", "marketer@example.com", "--days", "7", stdout=out, stderr=err)
    assert ApiToken.objects.get().expires_at == ISSUED + timedelta(days=7)
    assert "expires on 2026-03-08" in err.getvalue()
    with time_machine.travel(ISSUED + timedelta(days=8), tick=False):
        assert get(client, out.getvalue().strip()).status_code == 401


@pytest.mark.parametrize("days", ["0", "-3", "366", "many"])
def test_issue_api_token_refuses_a_lifetime_out_of_bounds(marketer_user, days):
    with pytest.raises((CommandError, SystemExit)):
        call_command("issue_api_token", "marketer@example.com", "--days", days, stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_a_token_of_a_user_without_mfa_is_refused_when_mfa_is_required(settings, marketer_user, client):
    _, raw = api_token_issue(user=marketer_user, name="script")
    settings.MFA_REQUIRED = True
    refused = get(client, raw)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"
    Authenticator.objects.create(user=marketer_user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert get(client, raw).status_code == 200


def test_issue_api_token_refuses_a_user_without_mfa_when_mfa_is_required(settings, marketer_user):
    settings.MFA_REQUIRED = True
    with pytest.raises(CommandError, match="two-factor"):
        call_command("issue_api_token", "marketer@example.com", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_last_use_is_written_at_most_once_a_minute(marketer_user, client):
    _, raw = api_token_issue(user=marketer_user, name="script")
    with time_machine.travel(ISSUED, tick=False):
        get(client, raw)
    with time_machine.travel(ISSUED + timedelta(seconds=50), tick=False):
        get(client, raw)
    assert ApiToken.objects.get().last_used_at == ISSUED
    with time_machine.travel(ISSUED + timedelta(seconds=61), tick=False):
        get(client, raw)
    assert ApiToken.objects.get().last_used_at == ISSUED + timedelta(seconds=61)


def test_the_profile_page_issues_for_the_chosen_days_and_shows_expiry_and_last_use(marketer_http, client):
    with time_machine.travel(ISSUED, tick=False):
        page = marketer_http.post("/profile/", {"name": "Looker", "days": "30"}).content.decode()
        assert "Copy your new token now" in page
        raw = page.split('data-testid="new-token">', 1)[1].split("<", 1)[0]
        assert ApiToken.objects.get().expires_at == ISSUED + timedelta(days=30)
        assert get(Client(), raw).status_code == 200
        page = marketer_http.get("/profile/").content.decode()
    assert "Expires" in page and "2026-03-31" in page and "Last used" in page
    assert "never" not in page.split("<tbody>", 1)[1]
    with time_machine.travel(ISSUED + timedelta(days=31), tick=False):
        page = marketer_http.get("/profile/").content.decode()
    assert '<span class="badge bad">expired</span>' in page


@pytest.mark.parametrize("days", ["0", "400", "ten"])
def test_the_profile_page_refuses_a_lifetime_out_of_bounds(marketer_http, days):
    response = marketer_http.post("/profile/", {"name": "Looker", "days": days})
    assert response.status_code == 200 and "Copy your new token" not in response.content.decode()
    assert not ApiToken.objects.exists()
