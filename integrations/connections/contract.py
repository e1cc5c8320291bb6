"""Which statistics contract a connection is on, and its switches (docs/deploy.md, "Statistics contracts").

- v3 (HIGHLEVEL_SOCIAL_API_VERSION, the default): statistics are asked for date ranges.
- 2021-07-28: HighLevel answers only its default window (the last 7 days excluding today). A connection is
  switched to it by the sync when HighLevel refuses v3 (a 4xx about the version, or ranges answered with
  other days); history then grows a day at a time.

The way back: an admin's "Try v3 again" on the connection page, or by itself once the fallback is
`SYNC_STATISTICS_V3_REPROBE_DAYS` old (default 7): the next statistics refresh asks v3 again. If HighLevel
serves it, the connection is back on ranges and the missing history is filled in; if not, one refused
request later it is on 2021-07-28 again for another period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integrations.connections.audit import audit_record
from integrations.models import AuditEntry, Connection

LEGACY = Connection.LEGACY_SOCIAL_VERSION


@dataclass(frozen=True)
class StatisticsContract:
    version: str  # the Version header to ask statistics with
    ranges: bool  # whether ranges may be asked
    reprobe: bool  # a connection on 2021-07-28 that tries v3 again on this run
    legacy_version: str = LEGACY


def _reprobe_after() -> timedelta:
    return timedelta(days=settings.SYNC_STATISTICS_V3_REPROBE_DAYS)


def statistics_contract_for(connection_id: int | None) -> StatisticsContract:
    connection = Connection.objects.filter(pk=connection_id).first() if connection_id else None
    if connection is None:
        return StatisticsContract(settings.HIGHLEVEL_SOCIAL_API_VERSION, _is_v3(settings.HIGHLEVEL_SOCIAL_API_VERSION),
                                  reprobe=False)
    configured = settings.HIGHLEVEL_SOCIAL_API_VERSION
    fell_back_at = connection.social_api_fallback_at
    if (connection.social_api_version == LEGACY and fell_back_at is not None and _is_v3(configured)
            and timezone.now() - fell_back_at >= _reprobe_after()):
        return StatisticsContract(configured, True, reprobe=True)
    return StatisticsContract(connection.social_version, connection.statistics_ranges, reprobe=False)


def _is_v3(version: str) -> bool:
    return version.lower() == "v3"


def connection_fall_back(connection_id: int, *, reason: str, trace_id: str | None) -> None:
    """Switch the connection to 2021-07-28 (the sync saw v3 refused); the reason names HighLevel's traceId."""
    detail = f"Statistics moved to Version 2021-07-28: {reason}" + (f" (traceId {trace_id})" if trace_id else "")
    Connection.objects.filter(pk=connection_id).update(
        social_api_version=LEGACY, social_api_fallback_at=timezone.now(), social_api_fallback_reason=detail[:500])
    audit_record(action=AuditEntry.Action.CONTRACT, connection=Connection(pk=connection_id), detail=detail)


def connection_v3_confirmed(connection_id: int) -> None:
    """A re-probe found v3 served: back to ranges."""
    _back_to_v3(connection_id)
    audit_record(action=AuditEntry.Action.CONTRACT, connection=Connection(pk=connection_id),
                 detail="Statistics back on Version v3: HighLevel answered the ranges asked")


def connection_try_v3_again(*, connection: Connection, actor) -> None:
    """The admin's action: the next statistics refresh asks v3 again (and falls back again if refused)."""
    _back_to_v3(connection.pk)
    audit_record(action=AuditEntry.Action.CONTRACT, connection=connection, actor=actor.user,
                 ip_address=actor.ip_address, detail="Try v3 again: the next statistics refresh asks v3")
    connection.refresh_from_db()


def _back_to_v3(connection_id: int) -> None:
    Connection.objects.filter(pk=connection_id).update(
        social_api_version="", social_api_fallback_at=None, social_api_fallback_reason="")
