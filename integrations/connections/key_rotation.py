"""Every stored secret re-encrypted with the newest of TOKEN_ENCRYPTION_KEYS (`manage.py
rotate_encryption_keys`)."""

from __future__ import annotations

from dataclasses import dataclass

from integrations import crypto
from integrations.connections.audit import audit_record
from integrations.models import AuditEntry, Connection, Location


@dataclass
class KeyRotationReport:
    rotated: int = 0
    unreadable: int = 0


def encryption_keys_rotate() -> KeyRotationReport:
    """Re-encrypt every stored secret with the newest key. Unreadable values are reported and their
    connection marked needs reconnect; nothing crashes half-way."""
    from integrations.connections.tokens import connection_mark_needs_reconnect
    from integrations.crypto import UndecryptableSecret

    report = KeyRotationReport()
    for connection in Connection.objects.all().iterator():
        updates: dict[str, str] = {}
        broken = False
        for field in ("access_token_enc", "refresh_token_enc"):
            value = getattr(connection, field)
            if not value:
                continue
            try:
                updates[field] = crypto.rotate(value)
            except UndecryptableSecret:
                broken = True
        if updates:
            Connection.objects.filter(pk=connection.pk).update(**updates)
            report.rotated += len(updates)
        if broken:
            report.unreadable += 1
            connection_mark_needs_reconnect(
                connection, reason="A stored token cannot be decrypted with any configured key. Reconnect.",
                audit_action=AuditEntry.Action.UNDECRYPTABLE,
            )
    for location in Location.objects.exclude(token_enc="").iterator():
        try:
            Location.objects.filter(pk=location.pk).update(token_enc=crypto.rotate(location.token_enc))
            report.rotated += 1
        except UndecryptableSecret:  # minted tokens are disposable: drop it, the next use mints another
            Location.objects.filter(pk=location.pk).update(token_enc="", token_expires_at=None)
    audit_record(action=AuditEntry.Action.KEYS_ROTATED,
                 detail=f"{report.rotated} secret(s) re-encrypted; {report.unreadable} connection(s) unreadable")
    return report
