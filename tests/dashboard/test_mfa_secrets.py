"""MFA secrets are encrypted at rest with TOKEN_ENCRYPTION_KEYS, rotated with them, and never in the admin."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

from integrations import crypto

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.mark.django_db
def test_the_totp_secret_and_recovery_seed_are_stored_encrypted(admin_user):
    secret = generate_totp_secret()
    TOTP.activate(admin_user, secret)
    codes = RecoveryCodes.activate(admin_user)
    totp = Authenticator.objects.get(type="totp")
    recovery = Authenticator.objects.get(type="recovery_codes")
    assert secret not in str(totp.data)
    assert crypto.decrypt(totp.data["secret"]) == secret
    seed = crypto.decrypt(recovery.data["seed"])
    assert seed not in str(recovery.data)
    # allauth still reads them: the codes it generates verify, the TOTP checks the current code.
    first = codes.generate_codes()[0]
    assert RecoveryCodes(recovery).validate_code(first)
    counter = next(yield_hotp_counters_from_time())
    assert TOTP(totp).validate_code(format_hotp_value(hotp_value(secret, counter)))


@pytest.mark.django_db
def test_key_rotation_reencrypts_mfa_secrets(settings, admin_user):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    secret = generate_totp_secret()
    TOTP.activate(admin_user, secret)
    codes = RecoveryCodes.activate(admin_user).generate_codes()
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(Authenticator.objects.get(type="totp").data["secret"]) == secret
    assert RecoveryCodes(Authenticator.objects.get(type="recovery_codes")).generate_codes() == codes


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_secrets_stored_in_clear(admin_user):
    executor = MigrationExecutor(db)
    executor.migrate([("dashboard", "0004_api_tokens")])
    totp = Authenticator.objects.create(user=admin_user, type="totp", data={"secret": "JBSWY3DPEHPK3PXP"})
    recovery = Authenticator.objects.create(user=admin_user, type="recovery_codes",
                                            data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]})
    executor = MigrationExecutor(db)
    executor.migrate([("dashboard", "0005_mfa_secrets_encrypted")])
    totp.refresh_from_db()
    recovery.refresh_from_db()
    assert "JBSWY3DPEHPK3PXP" not in str(totp.data)
    assert crypto.decrypt(totp.data["secret"]) == "JBSWY3DPEHPK3PXP"
    assert crypto.decrypt(recovery.data["seed"]) == "ab" * 40
    assert [crypto.decrypt(c) for c in recovery.data["migrated_codes"]] == ["12345678"]
    assert recovery.data["used_mask"] == 0
    executor = MigrationExecutor(db)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_the_django_admin_never_shows_mfa_data(admin_user, client):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    secret = generate_totp_secret()
    TOTP.activate(admin_user, secret)
    client.force_login(admin_user)
    totp = Authenticator.objects.get(type="totp")
    page = client.get(f"/admin/mfa/authenticator/{totp.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert totp.data["secret"] not in body and secret not in body and 'name="data"' not in body
    assert client.post(f"/admin/mfa/authenticator/{totp.pk}/change/", {"data": "{}"}).status_code == 403
