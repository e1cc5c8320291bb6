"""`rotate_encryption_keys` re-encrypts every secret Tagscope stores: every `*_enc` column, found by walking
the models, and the MFA secrets. After a rotation the old key can be dropped and everything still reads."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from integrations import crypto
from integrations.connections.key_rotation import encrypted_fields
from integrations.delivery import sending
from integrations.delivery.services import destination_create
from integrations.models import Connection, Destination, Location, PendingInstall

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _connection() -> Connection:
    return Connection.objects.create(name="c", kind=Connection.Kind.OAUTH_AGENCY, company_id="CO1")


def _location() -> Location:
    return Location.objects.create(location_id="LOCROT01", name="l")


def _destination() -> Destination:
    return Destination.objects.create(name="d", url="https://hooks.example/", secret_enc="x")


def _pending() -> PendingInstall:
    return PendingInstall.objects.create(user_type="Location", location_id="LOCROT02",
                                         expires_at=timezone.now() + timedelta(minutes=15))


# One way to make a row of every model that holds `*_enc` columns. A new model with a secret column fails
# test_every_encrypted_column_is_known until it is added here, and then it is checked by the rotation below.
ROW_MAKERS = {Connection: _connection, Location: _location, Destination: _destination, PendingInstall: _pending}


def test_every_encrypted_column_is_known():
    found = encrypted_fields()
    assert set(found) == set(ROW_MAKERS)
    assert found[Destination] == ["secret_enc", "previous_secret_enc"]


@pytest.mark.django_db
def test_rotation_reencrypts_every_encrypted_column_so_the_old_key_can_go(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    written = {}
    for model, names in encrypted_fields().items():
        row = ROW_MAKERS[model]()
        values = {name: f"secret-{model.__name__}-{name}" for name in names}
        model.objects.filter(pk=row.pk).update(**{name: crypto.encrypt(v) for name, v in values.items()})
        written[(model, row.pk)] = values

    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]  # the old key is dropped, as the README says to

    for (model, pk), values in written.items():
        row = model.objects.get(pk=pk)
        for name, plaintext in values.items():
            assert crypto.decrypt(getattr(row, name)) == plaintext, f"{model.__name__}.{name} was not rotated"


@pytest.mark.django_db
def test_a_destination_still_signs_after_the_old_key_is_dropped(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    destination, secret = destination_create(name="d", url="https://hooks.example/", event_types=["tag.created"])
    destination.previous_secret_enc = crypto.encrypt("whsec_previous")
    destination.previous_secret_expires_at = timezone.now() + timedelta(hours=1)
    destination.save()
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    destination.refresh_from_db()
    assert sending.destination_secrets(destination) == [secret, "whsec_previous"]


@pytest.mark.django_db
def test_an_unreadable_destination_secret_is_reported_not_a_crash(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    destination_create(name="lost", url="https://hooks.example/", event_types=["tag.created"])
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "secret_enc cannot be decrypted" in out.getvalue()
