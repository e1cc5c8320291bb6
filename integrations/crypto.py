"""Secrets at rest: MultiFernet over settings.TOKEN_ENCRYPTION_KEYS (newest first).

Encrypting always uses the newest key; decrypting tries each. `rotate()` re-encrypts with the newest
key, which is what `manage.py rotate_encryption_keys` does to every stored secret.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):
    """No configured key can read a stored secret (a key was removed, or the value is damaged)."""

    def __init__(self, what: str = "a stored secret"):
        super().__init__(f"{what} cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS")


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `manage.py generate_encryption_key`)."
        ) from None


def _current() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, *, what: str = "a stored secret") -> str:
    if not ciphertext:
        return ""
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(what) from None


def rotate(ciphertext: str, *, what: str = "a stored secret") -> str:
    if not ciphertext:
        return ""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(what) from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
