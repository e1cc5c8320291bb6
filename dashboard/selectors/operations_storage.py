"""The Operations page's storage section: each table's size as the last prune measured it, what that prune
deleted and how long it took, the retention windows, and when the next prune runs."""

from __future__ import annotations

from typing import Any

from integrations.retention.prune import last_prune
from integrations.retention.rules import rule_windows
from integrations.retention.sizes import database_bytes
from integrations.schedules import PRUNE


def storage_overview() -> dict[str, Any]:
    from django_q.models import Schedule

    record = last_prune()
    sizes = list(record.sizes) if record else []
    return {
        "last_prune": record,
        "deleted": sorted(record.deleted.items(), key=lambda kv: -kv[1]) if record else [],
        "deleted_total": sum(record.deleted.values()) if record else 0,
        "sizes": [row for row in sizes if row["rows"] or row["bytes"]],
        "sizes_have_bytes": any(row["bytes"] is not None for row in sizes),
        "database_bytes": database_bytes(),
        "windows": rule_windows(),
        "next_prune": Schedule.objects.filter(name=PRUNE).values_list("next_run", flat=True).first(),
    }
