"""Webhook signing keys: Ed25519 derived from the seed, and one legacy RSA key per process."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa


def webhook_private_key(seed: int) -> ed25519.Ed25519PrivateKey:
    digest = hashlib.sha256(f"tagscope-sandbox-webhook:{seed}".encode()).digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(digest)


def webhook_public_key_pem(seed: int) -> str:
    return _pem(webhook_private_key(seed).public_key())


@lru_cache(maxsize=1)
def legacy_private_key() -> rsa.RSAPrivateKey:
    # HighLevel's legacy key is 4096 bits; 2048 keeps sandbox start-up quick and verifies the same way.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def legacy_public_key_pem() -> str:
    return _pem(legacy_private_key().public_key())


def sign_ed25519(seed: int, body: bytes) -> str:
    return base64.b64encode(webhook_private_key(seed).sign(body)).decode()


def sign_rsa(body: bytes) -> str:
    signature = legacy_private_key().sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def _pem(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
