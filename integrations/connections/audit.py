"""The credential audit trail: one function writes it, and it never writes a secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from integrations.models import AuditEntry, Connection
from integrations.redact import redact

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acted (a signed-in user, or nobody: the system) and from where, for the audit trail."""

    user: Any = None
    ip_address: str | None = None


def audit_record(
    *,
    action: str,
    connection: Connection | None = None,
    actor: Any = None,
    actor_label: str = "",
    ip_address: str | None = None,
    detail: str = "",
) -> AuditEntry:
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor.email or actor.get_username()
    else:
        actor, label = None, actor_label or SYSTEM
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_label=label[:254],
        action=action,
        connection=connection,
        ip_address=ip_address or None,
        detail=redact(detail)[:500],
    )
