from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from integrations import crypto
from integrations.crypto import UndecryptableSecret
from integrations.models import AuditEntry, Connection, Event
from tests.integrations.connections.factories import oauth_connection

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_secret_round_trips_and_is_not_stored_in_clear(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    ciphertext = crypto.encrypt("sbxat_very_secret_value")
    assert "sbxat_very_secret_value" not in ciphertext
    assert crypto.decrypt(ciphertext) == "sbxat_very_secret_value"


def test_older_keys_still_decrypt_and_rotation_moves_to_the_newest(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    old_ciphertext = crypto.encrypt("value")
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.decrypt(old_ciphertext) == "value"
    rotated = crypto.rotate(old_ciphertext)
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(rotated) == "value"
    with pytest.raises(UndecryptableSecret):
        crypto.decrypt(old_ciphertext)


def test_an_unreadable_value_raises_a_typed_error_without_the_value(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(UndecryptableSecret) as caught:
        crypto.decrypt("gAAAAAB-not-a-real-token", what="the refresh token")
    assert "the refresh token" in str(caught.value)
    assert "not-a-real" not in str(caught.value)


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.TOKEN_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_rotate_encryption_keys_reencrypts_every_row_and_reports_unreadable_ones(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    good = oauth_connection(location_id="LOCGOOD01")
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    lost = oauth_connection(location_id="LOCLOST01", kind=Connection.Kind.OAUTH_LOCATION)
    lost.company_id = "OTHER"
    lost.save()
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]  # the key `lost` was written with is gone

    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)

    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    good.refresh_from_db()
    assert crypto.decrypt(good.access_token_enc) == "sbxat_access_one"
    assert crypto.decrypt(good.refresh_token_enc) == "sbxrt_refresh_one"
    lost.refresh_from_db()
    assert lost.status == Connection.Status.NEEDS_RECONNECT
    assert "cannot be decrypted" in lost.last_error
    assert Event.objects.filter(type=Event.Type.CONNECTION_NEEDS_RECONNECT, connection=lost).count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.KEYS_ROTATED).count() == 1
    assert "1 connection(s) hold a secret no configured key can read" in out.getvalue()
