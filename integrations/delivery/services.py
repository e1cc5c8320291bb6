"""What admins do with destinations: create, edit, rotate the secret, pause and resume, map fields,
preview, send a test event. Sending itself lives in integrations/delivery/sending.py.

Signing secrets are returned once to the caller (to be shown once) and stored only encrypted; they are
never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from integrations import crypto
from integrations.delivery import mapping, sending
from integrations.delivery.signing import secret_generate, secret_key
from integrations.models import Event, Location
from integrations.models.delivery import Delivery, Destination, DestinationMapping

log = logging.getLogger(__name__)


class MappingInvalid(Exception):
    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


def destination_create(
    *, name: str, url: str, event_types: Iterable[str], locations: Iterable[Location] | None = None,
    created_by: Any = None, secret: str | None = None,
) -> tuple[Destination, str]:
    """A new destination and its signing secret (returned once; stored encrypted). No locations: all."""
    secret = secret or secret_generate()
    secret_key(secret)  # refuses a malformed one
    chosen = list(locations or [])
    with transaction.atomic():
        destination = Destination.objects.create(
            name=name, url=url, event_types=sorted(set(event_types)), all_locations=not chosen,
            secret_enc=crypto.encrypt(secret),
            starts_after_event_id=Event.objects.aggregate(m=Max("id"))["m"] or 0,
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        destination.locations.set(chosen)
    log.info("destination %s created for %s", destination.pk, ", ".join(destination.event_types))
    return destination, secret


def destination_update(
    *, destination: Destination, name: str, url: str, event_types: Iterable[str], locations: Iterable[Location],
) -> Destination:
    chosen = list(locations)
    with transaction.atomic():
        destination.name, destination.url = name, url
        destination.event_types = sorted(set(event_types))
        destination.all_locations = not chosen
        destination.save()
        destination.locations.set(chosen)
    return destination


def destination_rotate_secret(*, destination: Destination, overlap: timedelta) -> str:
    """A new current secret; with an overlap, the old one keeps signing (beside it) until it ends."""
    secret = secret_generate()
    now = timezone.now()
    if overlap > timedelta(0):
        destination.previous_secret_enc = destination.secret_enc
        destination.previous_secret_expires_at = now + overlap
    else:
        destination.previous_secret_enc, destination.previous_secret_expires_at = "", None
    destination.secret_enc = crypto.encrypt(secret)
    destination.save(update_fields=["secret_enc", "previous_secret_enc", "previous_secret_expires_at", "updated_at"])
    log.info("destination %s: signing secret rotated (overlap %s)", destination.pk, overlap)
    return secret


def destination_resume(*, destination: Destination) -> int:
    """Resume: the deliveries held meanwhile become due now and go out in order. Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        Destination.objects.filter(pk=destination.pk).update(
            is_active=True, paused_reason="", paused_at=None, consecutive_failures=0, updated_at=now
        )
        held = Delivery.objects.filter(destination=destination, status=Delivery.Status.PENDING).update(
            next_attempt_at=now, enqueued_at=None
        )
    sending.deliveries_enqueue_due()
    destination.refresh_from_db()
    return held


def destination_delete(*, destination: Destination) -> None:
    destination.delete()  # its mappings, deliveries and attempts go with it


# --- Mappings and samples -------------------------------------------------------------------------------------
def mapping_rows(destination: Destination, event_type: str) -> list[dict[str, Any]]:
    found = DestinationMapping.objects.filter(destination=destination, event_type=event_type).first()
    return list(found.rows) if found else []


def mapping_save(*, destination: Destination, event_type: str, rows: list[dict[str, Any]]) -> DestinationMapping | None:
    """Validate and store; no rows removes the mapping (the whole event goes out). Raises MappingInvalid."""
    errors = mapping.mapping_validate(rows)
    if event_type not in Event.Type.values:
        errors.insert(0, f"Unknown event type “{event_type}”.")
    if errors:
        raise MappingInvalid(errors)
    if not rows:
        DestinationMapping.objects.filter(destination=destination, event_type=event_type).delete()
        return None
    saved, _ = DestinationMapping.objects.update_or_create(
        destination=destination, event_type=event_type, defaults={"rows": rows}
    )
    return saved


def sample_for(destination: Destination, event_type: str) -> dict[str, Any]:
    """The newest real event of this type the destination would get, else a made-up one."""
    events = Event.objects.filter(type=event_type).select_related("location").order_by("-id")
    if not destination.all_locations:
        events = events.filter(location__in=destination.locations.all())
    event = events.first()
    return mapping.source_document(event) if event else mapping.sample_source(event_type)


def mapping_preview(*, destination: Destination, event_type: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON a sample event of this type would be sent as, test-marked. Raises MappingInvalid."""
    errors = mapping.mapping_validate(rows)
    if errors:
        raise MappingInvalid(errors)
    source = sample_for(destination, event_type)
    return mapping.envelope(event_type=event_type, occurred_at=source["occurred_at"],
                            data=mapping.mapping_apply(rows, source), test=True)


def destination_send_test(*, destination: Destination, event_type: str) -> Delivery:
    """Queue one test-marked delivery of a sample event (sent even while paused; tried once)."""
    source = sample_for(destination, event_type)
    data = mapping.mapping_apply(mapping_rows(destination, event_type), source)
    delivery = Delivery.objects.create(
        destination=destination, event_type=event_type, is_test=True, next_attempt_at=timezone.now(),
        body=mapping.message_body(event_type=event_type, occurred_at=source["occurred_at"], data=data,
                                  test=True).decode(),
    )
    sending.delivery_enqueue(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery
