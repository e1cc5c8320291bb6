"""With MFA required, a new admin signs in, is sent to set up an authenticator app, and then gets in."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_a_user_without_mfa_must_set_it_up_before_anything_else(page, live_server, make_user, settings,
                                                                 screenshots):
    settings.MFA_REQUIRED = True
    make_user("admin@example.com", "Admin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/connections/")  # anything else sends them to the MFA set-up
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    assert "/accounts/2fa/totp/activate/" in page.url
    screenshots(page, "foundation-04-mfa-setup")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_now(secret))
    page.get_by_role("button", name="Activate").click()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Locations")).to_be_visible()
    screenshots(page, "foundation-05-after-mfa")


def _sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    assert "/accounts/2fa/authenticate/" in page.url


def test_sign_in_with_totp_and_with_a_recovery_code_reads_the_encrypted_secrets(page, live_server, make_user,
                                                                               screenshots):
    """The secrets are stored encrypted (dashboard/mfa.py); allauth decrypts them to check both kinds of code."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from integrations import crypto

    user = make_user("mfa@example.com", "Admin")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user).generate_codes()
    stored = Authenticator.objects.get(type="totp").data["secret"]
    assert stored != secret and crypto.decrypt(stored) == secret

    _sign_in(page, live_server, "mfa@example.com")
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Locations")).to_be_visible()

    page.context.clear_cookies()
    _sign_in(page, live_server, "mfa@example.com")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Locations")).to_be_visible()
    screenshots(page, "i17-mfa-recovery-code-signed-in")
