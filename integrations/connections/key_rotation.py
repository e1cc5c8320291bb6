"""Re-encrypting every stored secret with the newest key (`manage.py rotate_encryption_keys`).

Encrypted columns are found, not listed: every model field whose name ends in `_enc` is one, so a new
secret column is rotated the day it is added (tests/integrations/connections/test_key_rotation.py walks
them). Secrets kept in another app's columns (allauth's MFA data, in a JSON field) join through
`register_secret_store` from that app's `ready()`: integrations never imports dashboard.

A value no configured key can read is reported, never a crash half-way: a connection is marked
*needs reconnect*; a location's minted token and a pending install are disposable and dropped; anything
else (a destination's secret) is counted and named in the report so an admin can act.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from integrations import crypto
from integrations.connections.audit import audit_record
from integrations.crypto import UndecryptableSecret
from integrations.models import AuditEntry, Connection, Location, PendingInstall

log = logging.getLogger(__name__)
ENCRYPTED_SUFFIX = "_enc"


@dataclass
class KeyRotationReport:
    rotated: int = 0
    unreadable: int = 0  # connections marked needs reconnect
    unreadable_other: list[str] = field(default_factory=list)  # "Destination 3: secret_enc", ...


# A store rotates its own secrets in place and adds to the report.
SecretStore = Callable[[KeyRotationReport], None]
_stores: dict[str, SecretStore] = {}


def register_secret_store(name: str, rotate: SecretStore) -> None:
    _stores[name] = rotate


def encrypted_fields() -> dict[type[models.Model], list[str]]:
    """Every concrete model with `*_enc` columns, and those columns."""
    found: dict[type[models.Model], list[str]] = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if f.name.endswith(ENCRYPTED_SUFFIX)]
        if names:
            found[model] = names
    return found


def encryption_keys_rotate() -> KeyRotationReport:
    report = KeyRotationReport()
    for model, names in encrypted_fields().items():
        _rotate_model(model, names, report)
    for rotate in _stores.values():
        rotate(report)
    audit_record(action=AuditEntry.Action.KEYS_ROTATED,
                 detail=f"{report.rotated} secret(s) re-encrypted; {report.unreadable} connection(s) unreadable; "
                        f"{len(report.unreadable_other)} other unreadable value(s)")
    return report


def _rotate_model(model: type[models.Model], names: list[str], report: KeyRotationReport) -> None:
    nonempty = models.Q()
    for name in names:
        nonempty |= ~models.Q(**{name: ""})
    for row in model._default_manager.filter(nonempty).only("pk", *names).iterator():
        updates, broken = {}, []
        for name in names:
            value = getattr(row, name)
            if not value:
                continue
            try:
                updates[name] = crypto.rotate(value)
            except UndecryptableSecret:
                broken.append(name)
        if updates:
            model._default_manager.filter(pk=row.pk).update(**updates)
            report.rotated += len(updates)
        if broken:
            _unreadable(model, row, broken, report)


def _unreadable(model: type[models.Model], row: models.Model, names: list[str], report: KeyRotationReport) -> None:
    from integrations.connections.tokens import connection_mark_needs_reconnect

    if model is Connection:
        report.unreadable += 1
        connection_mark_needs_reconnect(
            row, reason="A stored token cannot be decrypted with any configured key. Reconnect.",
            audit_action=AuditEntry.Action.UNDECRYPTABLE,
        )
    elif model is Location:  # minted tokens are disposable: drop it, the next use mints another
        Location.objects.filter(pk=row.pk).update(token_enc="", token_expires_at=None)
    elif model is PendingInstall:  # unconfirmed and short-lived: the admin installs again
        PendingInstall.objects.filter(pk=row.pk).delete()
    else:
        for name in names:
            label = f"{model._meta.verbose_name} {row.pk}: {name}"
            report.unreadable_other.append(label)
            log.warning("key rotation: %s cannot be decrypted with any configured key", label)
