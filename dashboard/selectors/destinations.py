"""What the destinations pages show, shaped in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone

from integrations.models.delivery import Delivery, DeliveryAttempt, Destination

LOG_ROWS = 50
ATTEMPTS_SHOWN = 7


def destination_rows() -> list[Destination]:
    since = timezone.now() - timedelta(hours=24)
    return list(
        Destination.objects.annotate(
            pending_count=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING,
                                                       deliveries__is_test=False)),
            dead_count=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DEAD)),
            delivered_24h=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DELIVERED,
                                                       deliveries__delivered_at__gte=since)),
            last_delivered_at=Max("deliveries__delivered_at"),
        ).prefetch_related("locations")
    )


def delivery_log(destination: Destination, *, status: str = "") -> list[Delivery]:
    deliveries = destination.deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-number"))
    )
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    found = list(deliveries.order_by("-id")[:LOG_ROWS])
    for delivery in found:
        delivery.recent_attempts = list(delivery.attempt_log.all())[:ATTEMPTS_SHOWN]
    return found


def _mappings(destination: Destination) -> list[dict[str, Any]]:
    """Per subscribed event type: how many fields its mapping sends (None: the whole event)."""
    fields = {m.event_type: len(m.rows) for m in destination.mappings.all()}
    return [{"event_type": t, "fields": fields.get(t)} for t in destination.event_types]


def destination_detail(destination: Destination, *, status: str = "") -> dict[str, Any]:
    now = timezone.now()
    counts = dict(destination.deliveries.values_list("status").annotate(n=Count("id")).order_by())
    overlap_until = destination.previous_secret_expires_at
    return {
        "destination": destination,
        "locations": list(destination.locations.order_by("name")),
        "mappings": _mappings(destination),
        "deliveries": delivery_log(destination, status=status),
        "status_filter": status if status in Delivery.Status.values else "",
        "counts": {s: counts.get(s, 0) for s in Delivery.Status.values},
        "failed_count": counts.get(Delivery.Status.DEAD, 0)
        + destination.deliveries.filter(status=Delivery.Status.PENDING, attempts__gt=0).count(),
        "overlap_until": overlap_until if overlap_until and overlap_until > now else None,
    }
