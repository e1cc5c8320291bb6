"""Encrypt the MFA secrets stored before dashboard.mfa.EncryptedMFAAdapter (TOTP secret, recovery seed)."""

from django.db import migrations

from integrations import crypto


def _is_encrypted(value: str) -> bool:
    try:
        crypto.decrypt(value)
    except crypto.UndecryptableSecret:
        return False
    return True


def encrypt_existing(apps, schema_editor):
    from dashboard.mfa import mfa_data_map

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.exclude(type="webauthn").iterator():
        data = mfa_data_map(authenticator.data, lambda v: v if _is_encrypted(v) else crypto.encrypt(v))
        if data != authenticator.data:
            Authenticator.objects.filter(pk=authenticator.pk).update(data=data)


def decrypt_existing(apps, schema_editor):
    from dashboard.mfa import mfa_data_map

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.exclude(type="webauthn").iterator():
        data = mfa_data_map(authenticator.data, lambda v: crypto.decrypt(v) if _is_encrypted(v) else v)
        Authenticator.objects.filter(pk=authenticator.pk).update(data=data)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0004_api_tokens"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_existing, decrypt_existing)]
