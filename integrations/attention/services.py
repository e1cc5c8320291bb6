"""Writes an admin makes: goals, anomaly mutes and thresholds. Each is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from integrations.connections.audit import audit_record
from integrations.models import AnomalyMute, AnomalyThreshold, Goal, Location


def goal_set(*, location: Location, kind: str, platform: str, target: float, actor: Any) -> Goal:
    """Create the location's goal of that kind and platform, or change its target."""
    with transaction.atomic():
        goal, created = Goal.objects.update_or_create(
            location=location, kind=kind, platform=platform,
            defaults={"target": target}, create_defaults={"target": target, "created_by": _user(actor)})
    _audit("goal.set", actor, location, f"{kind} {platform or 'all platforms'} target {target:g}"
           + (" (new)" if created else ""))
    return goal


def goal_delete(*, goal: Goal, actor: Any) -> None:
    location, detail = goal.location, {"kind": goal.kind, "platform": goal.platform, "target": goal.target}
    goal.delete()
    _audit("goal.deleted", actor, location, f"{detail['kind']} {detail['platform'] or 'all platforms'}")


def anomaly_mute_set(*, location: Location, metric: str, muted: bool, actor: Any) -> None:
    if muted:
        AnomalyMute.objects.get_or_create(location=location, metric=metric, defaults={"muted_by": _user(actor)})
    else:
        AnomalyMute.objects.filter(location=location, metric=metric).delete()
    _audit("anomaly.muted" if muted else "anomaly.unmuted", actor, location, metric)


def anomaly_threshold_set(*, location: Location | None, threshold: float | None, actor: Any) -> None:
    """A location's own threshold (None: back to the default), or the default itself (location None)."""
    if threshold is None:
        AnomalyThreshold.objects.filter(location=location).delete()
    elif location is None:
        AnomalyThreshold.objects.update_or_create(location__isnull=True, defaults={"threshold": threshold})
    else:
        AnomalyThreshold.objects.update_or_create(location=location, defaults={"threshold": threshold})
    _audit("anomaly.threshold", actor, location, "default" if threshold is None else f"{threshold:g}")


def _audit(action: str, actor: Any, location: Location | None, detail: str) -> None:
    where = f"{location.name} ({location.location_id}): " if location else "every location: "
    audit_record(action=action, connection=location.connection if location else None, actor=actor,
                 detail=where + detail)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None
