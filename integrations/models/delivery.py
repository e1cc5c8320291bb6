"""Webhook destinations, their field mappings, and one Delivery row per event x destination.

The Delivery row is the truth: the broker message that sends it is only a hint. `claimed_until` is a
lease taken with a conditional UPDATE; a worker that dies mid-send lets it expire and the sweeper
re-enqueues the delivery.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Destination(models.Model):
    """An HTTP endpoint that receives signed events. Secrets are stored encrypted (integrations/crypto.py)."""

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)  # Event.Type values
    all_locations = models.BooleanField(default=True)
    locations = models.ManyToManyField("integrations.Location", blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)

    secret_enc = models.TextField()
    # During a rotation overlap the previous secret signs too, until previous_secret_expires_at.
    previous_secret_enc = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)

    # Events up to this id happened before the destination existed and are not sent to it.
    starts_after_event_id = models.BigIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DestinationMapping(models.Model):
    """The field mapping of one destination for one event type (rows: see integrations/delivery/mapping.py)."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="mappings")
    event_type = models.CharField(max_length=50)
    rows = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["destination", "event_type"], name="mapping_destination_type_unique")
        ]

    def __str__(self) -> str:
        return f"{self.destination} / {self.event_type}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead"

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="deliveries")
    # The Event's id, copied (events may be pruned): the idempotency key and the order within a chain.
    event_seq = models.BigIntegerField(null=True, blank=True)
    # The chain: deliveries of one destination and one location (HighLevel id, '' for none) go out in order.
    location_key = models.CharField(max_length=64, blank=True)
    event_type = models.CharField(max_length=50)
    is_test = models.BooleanField(default=False)
    message_id = models.CharField(max_length=64, unique=True, default=_message_id)  # webhook-id: stable
    body = models.TextField()  # the exact JSON sent at every attempt

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["destination", "event_seq"], name="delivery_event_destination_unique")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["destination", "location_key", "status", "event_seq"]),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.destination_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)  # the first KiB
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error[:40]}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryCursor(models.Model):
    """How far the fan-out has read the Event table (one row, name 'fanout')."""

    name = models.CharField(max_length=50, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"
