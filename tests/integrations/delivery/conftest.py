"""Fixtures for delivery tests: a live demo receiver on a free port, allowed as a destination host."""

from __future__ import annotations

import pytest

from dashboard.devtools.receiver import ReceiverServer
from integrations.delivery.signing import secret_generate


@pytest.fixture
def receiver_secret() -> str:
    return secret_generate()


@pytest.fixture
def receiver(settings, receiver_secret):
    """A ReceiverServer that verifies with `receiver_secret`; 127.0.0.1 is an allowed destination host."""
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    server = ReceiverServer([receiver_secret]).start()
    yield server
    server.stop()


@pytest.fixture
def make_event(db):
    """An Event row shaped as integrations/sync/tags.py writes it."""
    from django.utils import timezone

    from integrations.models import Event

    def make(event_type: str = "tag.created", *, location=None, tag_id: str = "tag1", **payload):
        return Event.objects.create(
            type=event_type, occurred_at=timezone.now(), location=location, subject_id=tag_id,
            payload={"location_id": location.location_id if location else None, "tag_id": tag_id,
                     "name": payload.pop("name", "VIP Customer"), **payload},
        )

    return make


@pytest.fixture
def location(db):
    from integrations.models import Location

    return Location.objects.create(location_id="sandboxLoc0001", name="Sandbox Bakery")


@pytest.fixture
def make_destination(db, receiver):
    """A destination pointing at the live receiver, signing with the receiver's secret."""
    from integrations.delivery.services import destination_create

    def make(path: str = "/", *, event_types=("tag.created", "tag.removed"), locations=None, secret=None):
        destination, _ = destination_create(
            name="Receiver", url=f"{receiver.url}{path}", event_types=event_types, locations=locations,
            secret=secret or receiver.receiver.secrets[0],
        )
        return destination

    return make
