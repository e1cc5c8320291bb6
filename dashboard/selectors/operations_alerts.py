"""Alerts and alert rules as their pages show them."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from integrations.models import Alert, AlertRule

PER_PAGE = 50
VIEWS = {"active": Alert.ACTIVE, "resolved": (Alert.State.RESOLVED,), "all": tuple(Alert.State.values)}


def alerts_page(*, show: str, page: str | int | None) -> Page:
    alerts = (Alert.objects.filter(state__in=VIEWS.get(show, Alert.ACTIVE))
              .select_related("location", "connection", "acknowledged_by", "rule").order_by("-last_seen_at", "-id"))
    return Paginator(alerts, PER_PAGE).get_page(page)


def alert_counts() -> dict[str, int]:
    return Alert.objects.aggregate(open=Count("id", filter=Q(state=Alert.State.OPEN)),
                                   acknowledged=Count("id", filter=Q(state=Alert.State.ACKNOWLEDGED)))


def alert_rules() -> list[AlertRule]:
    return list(AlertRule.objects.select_related("location").annotate(
        active_alerts=Count("alerts", filter=Q(alerts__state__in=Alert.ACTIVE))).order_by("name", "pk"))
