"""Turning events into deliveries and sending them: fan-out, claims, retries, dead letters, redelivery
(docs/architecture.md, "Delivery").

The Delivery row is the truth and the broker message only a hint: `deliveries_sweep()` (a django-q2
schedule, every minute) fans new events out (a cursor over Event ids) and re-enqueues every due delivery
that is not in flight, so a lost broker message delays a delivery but never loses it. A send claims its
row with a conditional UPDATE (a lease), calls the destination outside any transaction, then records
the attempt in a short one. Per destination and location, a delivery waits while an earlier one is
pending, so a later event never overtakes an earlier one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations import crypto
from integrations.delivery import mapping, network, signing
from integrations.highlevel.retry import UP, Backoff
from integrations.models import Event
from integrations.models.delivery import Delivery, DeliveryAttempt, DeliveryCursor, Destination
from integrations.schedules import run_once_later

log = logging.getLogger(__name__)

# The Standard Webhooks schedule (standardwebhooks.com, as Svix sends): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
# 10 h after the failed attempt before it, each up to a fifth later (jitter spreads a destination's
# backlog, and is never early), then the delivery is dead: 8 attempts over about 28 hours.
RETRY_BACKOFF = Backoff(retries=7, delays=(5, 300, 1800, 7200, 18000, 36000, 36000), jitter=UP, spread=0.2)
MAX_ATTEMPTS = RETRY_BACKOFF.retries + 1
SWEEP_EVERY = timedelta(minutes=1)  # the deliveries sweep's schedule (integrations/schedules.py)
LEASE = timedelta(seconds=60)  # longer than connect + read timeouts
REENQUEUE_AFTER = timedelta(minutes=2)  # a message not acted on by then is taken as lost
FANOUT_BATCH = 500
# Re-read a few ids behind the cursor: on PostgreSQL an event can commit after a higher id was read.
REWIND = 50
CURSOR = "fanout"


def destination_secrets(destination: Destination, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during a rotation overlap."""
    now = now or timezone.now()
    found = [crypto.decrypt(destination.secret_enc, what="a destination's signing secret")]
    expires = destination.previous_secret_expires_at
    if destination.previous_secret_enc and expires and expires > now:
        found.append(crypto.decrypt(destination.previous_secret_enc, what="a destination's previous secret"))
    return found


# --- Fan-out -------------------------------------------------------------------------------------------------
def _wants(destination: Destination, location_pks: set[int], event: Event) -> bool:
    return (
        event.type in destination.event_types
        and event.pk > destination.starts_after_event_id
        and (destination.all_locations or event.location_id in location_pks)
    )


def deliveries_fan_out(*, limit: int = FANOUT_BATCH) -> int:
    """Create the Delivery rows of events past the cursor (idempotently); returns how many events were read."""
    cursor, _ = DeliveryCursor.objects.get_or_create(name=CURSOR)
    events = list(
        Event.objects.filter(id__gt=max(0, cursor.last_event_id - REWIND)).select_related("location")
        .order_by("id")[:limit]
    )
    if not events:
        return 0
    destinations = [
        (d, {loc.pk for loc in d.locations.all()}, {m.event_type: m.rows for m in d.mappings.all()})
        for d in Destination.objects.prefetch_related("locations", "mappings")
    ]
    now = timezone.now()
    new = []
    for event in events:
        source = None
        for destination, location_pks, rows_by_type in destinations:
            if not _wants(destination, location_pks, event):
                continue
            source = source or mapping.source_document(event)
            data = mapping.mapping_apply(rows_by_type.get(event.type, []), source)
            new.append(Delivery(
                destination=destination, event_seq=event.pk, location_key=source["location_id"] or "",
                event_type=event.type, next_attempt_at=now,
                body=mapping.message_body(event_type=event.type, occurred_at=source["occurred_at"], data=data).decode(),
            ))
    Delivery.objects.bulk_create(new, ignore_conflicts=True)
    last = max(cursor.last_event_id, events[-1].pk)
    DeliveryCursor.objects.filter(pk=cursor.pk, last_event_id=cursor.last_event_id).update(last_event_id=last)
    return len(events)


# --- Queueing ------------------------------------------------------------------------------------------------
def _earlier_pending() -> Any:
    return Delivery.objects.filter(
        destination=OuterRef("destination"), location_key=OuterRef("location_key"), is_test=False,
        status=Delivery.Status.PENDING, event_seq__lt=OuterRef("event_seq"),
    )


def delivery_enqueue(*, delivery_id: int) -> None:
    Delivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())
    async_task("integrations.tasks.delivery_send", delivery_id, task_name=f"delivery-{delivery_id}")


def deliveries_enqueue_due(*, limit: int = FANOUT_BATCH) -> int:
    """Enqueue every due delivery at the head of its chain that is neither in flight nor recently queued."""
    now = timezone.now()
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(destination__is_active=True) | Q(is_test=True))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=F("next_attempt_at"))
                | Q(enqueued_at__lt=now - REENQUEUE_AFTER))
        .filter(~Exists(_earlier_pending()))
        .order_by("event_seq", "id").values_list("id", flat=True)[:limit]
    )
    ids = list(due)
    for delivery_id in ids:
        delivery_enqueue(delivery_id=delivery_id)
    return len(ids)


def deliveries_sweep() -> dict[str, int]:
    """The periodic job: fan out new events, then (re-)enqueue what is due."""
    return {"events": deliveries_fan_out(), "enqueued": deliveries_enqueue_due()}


# --- Sending -------------------------------------------------------------------------------------------------
def delivery_send(*, delivery_id: int) -> str:
    """One attempt, if the delivery is due, first in its chain and not claimed elsewhere. Returns what happened."""
    now = timezone.now()
    delivery = Delivery.objects.select_related("destination").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return "done"
    destination = delivery.destination
    if not destination.is_active and not delivery.is_test:
        return "paused"
    if delivery.next_attempt_at > now:
        return "not due"
    if not delivery.is_test and Delivery.objects.filter(
        destination=destination, location_key=delivery.location_key, is_test=False,
        status=Delivery.Status.PENDING, event_seq__lt=delivery.event_seq,
    ).exists():
        return "blocked"
    claimed = (
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE)
    )
    if not claimed:
        return "claimed elsewhere"
    body = delivery.body.encode()
    try:
        headers = signing.headers_for(destination_secrets(destination), delivery.message_id, body)
        result = network.post(destination.url, body, headers)
    except (network.DestinationRefused, crypto.UndecryptableSecret) as exc:
        result = network.PostResult(status_code=None, latency_ms=0, error=str(exc))
    return _record(delivery, result)


def _record(delivery: Delivery, result: network.PostResult) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    changes: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "last_status_code": result.status_code,
                               "last_error": result.error[:300]}
    if result.ok:
        changes.update(status=Delivery.Status.DELIVERED, delivered_at=now)
    elif delivery.is_test or attempts >= MAX_ATTEMPTS:
        changes.update(status=Delivery.Status.DEAD)
    else:
        delay = timedelta(seconds=RETRY_BACKOFF.delay(attempts - 1))
        changes.update(next_attempt_at=now + delay)
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempt_log.count() + 1, at=now, status_code=result.status_code,
            latency_ms=result.latency_ms, response_excerpt=result.excerpt, error=result.error[:300],
        )
        Delivery.objects.filter(pk=delivery.pk).update(**changes)
        if not delivery.is_test:
            counters = ({"consecutive_failures": 0, "last_success_at": now} if result.ok else
                        {"consecutive_failures": F("consecutive_failures") + 1, "last_failure_at": now})
            Destination.objects.filter(pk=delivery.destination_id).update(**counters)
    outcome = changes.get("status", "retrying")
    log.info("delivery %s attempt %s: %s %s", delivery.message_id, attempts, outcome,
             result.error or result.status_code)
    if outcome == "retrying" and delay < SWEEP_EVERY:
        # Sooner than the sweep would look again: a one-off schedule sends it (at the scheduler's next tick).
        run_once_later(name=f"tagscope.delivery.retry.{delivery.pk}", func="integrations.tasks.delivery_send",
                       args=(delivery.pk,), delay_seconds=delay.total_seconds())
    if delivery.is_test or outcome == "retrying":
        return outcome
    if outcome == Delivery.Status.DEAD:
        _pause_if_failing(delivery.destination_id)
    _enqueue_next_in_chain(delivery)
    return outcome


def _pause_if_failing(destination_id: int) -> None:
    failures = Destination.objects.filter(pk=destination_id).values_list("consecutive_failures", flat=True).first()
    if failures is not None and failures >= MAX_ATTEMPTS:
        destination_pause(
            destination_id=destination_id, automatic=True,
            reason=f"Paused automatically: {failures} attempts failed in a row and a delivery gave up.",
        )


def _enqueue_next_in_chain(delivery: Delivery) -> None:
    following = (
        Delivery.objects.filter(destination_id=delivery.destination_id, location_key=delivery.location_key,
                                is_test=False, status=Delivery.Status.PENDING, event_seq__gt=delivery.event_seq)
        .order_by("event_seq").values_list("id", flat=True).first()
    )
    if following is not None:
        delivery_enqueue(delivery_id=following)


def destination_pause(*, destination_id: int, reason: str, automatic: bool) -> bool:
    """Stop sending (deliveries keep being created and wait). Automatic pauses record `destination.paused`."""
    now = timezone.now()
    with transaction.atomic():
        changed = Destination.objects.filter(pk=destination_id, is_active=True).update(
            is_active=False, paused_reason=reason[:300], paused_at=now, updated_at=now
        )
        if changed and automatic:
            destination = Destination.objects.get(pk=destination_id)
            Event.objects.create(type=Event.Type.DESTINATION_PAUSED, occurred_at=now, payload={
                "destination_id": destination.pk, "name": destination.name, "reason": reason,
                "consecutive_failures": destination.consecutive_failures,
            })
    if changed:
        log.warning("destination %s paused: %s", destination_id, reason)
    return bool(changed)


# --- Redelivery ----------------------------------------------------------------------------------------------
def _redeliver(deliveries: Any) -> int:
    now = timezone.now()
    count = deliveries.exclude(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, enqueued_at=None, claimed_until=None
    )
    count += deliveries.filter(status=Delivery.Status.PENDING, attempts__gt=0).update(
        next_attempt_at=now, enqueued_at=None
    )
    deliveries_enqueue_due()
    return count


def delivery_redeliver(*, delivery: Delivery) -> int:
    """Send one delivery again (same webhook-id, so receivers can tell it is the same message)."""
    return _redeliver(Delivery.objects.filter(pk=delivery.pk).exclude(claimed_until__gt=timezone.now()))


def deliveries_redeliver_failed(*, destination: Destination) -> int:
    """Send again every dead delivery of the destination, and retry now those waiting for a retry."""
    failed = Q(status=Delivery.Status.DEAD) | Q(status=Delivery.Status.PENDING, attempts__gt=0)
    return _redeliver(Delivery.objects.filter(failed, destination=destination)
                      .exclude(claimed_until__gt=timezone.now()))
