"""MFA secrets at rest: allauth stores the TOTP secret and the recovery-code seed (and codes migrated from
elsewhere) through its adapter's `encrypt`/`decrypt`; ours uses the same Fernet keys as HighLevel's tokens
(integrations/crypto.py), and `rotate_encryption_keys` re-encrypts them with everything else.

WebAuthn data does not pass through those hooks in allauth 65: it is the authenticator's public credential
(public key and credential id; the private key never leaves the device), so it holds nothing that would let
anyone sign in. It is hidden from the Django admin like the rest (dashboard/admin.py).
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.adapter import DefaultMFAAdapter

from integrations import crypto
from integrations.crypto import UndecryptableSecret

WHAT = "an MFA secret"


class EncryptedMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text, what=WHAT)


def _secret_paths(data: dict[str, Any]) -> list[tuple[str, int | None]]:
    """Where an authenticator's `data` holds encrypted values: ("secret"|"seed", None) or ("migrated_codes", i)."""
    paths: list[tuple[str, int | None]] = [(key, None) for key in ("secret", "seed") if data.get(key)]
    paths += [("migrated_codes", i) for i, _ in enumerate(data.get("migrated_codes") or [])]
    return paths


def mfa_data_map(data: dict[str, Any], change) -> dict[str, Any]:
    """A copy of `data` with `change` applied to every secret in it."""
    new = {**data}
    if "migrated_codes" in new and new["migrated_codes"] is not None:
        new["migrated_codes"] = list(new["migrated_codes"])
    for key, index in _secret_paths(data):
        if index is None:
            new[key] = change(data[key])
        else:
            new[key][index] = change(data[key][index])
    return new


def mfa_secrets_rotate(report) -> None:
    """A secret store for integrations.connections.key_rotation: re-encrypt every TOTP secret and recovery seed."""
    from allauth.mfa.models import Authenticator

    for authenticator in Authenticator.objects.exclude(type=Authenticator.Type.WEBAUTHN).iterator():
        secrets = _secret_paths(authenticator.data)
        if not secrets:
            continue
        try:
            data = mfa_data_map(authenticator.data, lambda value: crypto.rotate(value, what=WHAT))
        except UndecryptableSecret:
            report.unreadable_other.append(f"MFA {authenticator.type} of user {authenticator.user_id}")
            continue
        Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
        report.rotated += len(secrets)
