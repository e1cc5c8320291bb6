"""Issue 8's whole path with nothing faked: a tag created in the sandbox is synced, becomes a tag.created
event, and reaches a live receiver mapped and signed."""

from __future__ import annotations

import pytest

from dashboard.devtools.demo import sandbox_agency_connect
from integrations.delivery import sending
from integrations.delivery.services import mapping_save
from integrations.models import Event, Location
from integrations.sync.services import refresh_location_enqueue


@pytest.mark.django_db
def test_a_new_sandbox_tag_reaches_the_receiver_mapped_and_signed(hl, make_destination, receiver):
    agency = sandbox_agency_connect(hl, redirect_uri="http://testserver/connections/oauth/callback/")
    location = Location.objects.filter(connection=agency).order_by("location_id").first()
    refresh_location_enqueue(location, kinds=["tags"])  # the baseline: no tag.created
    assert not Event.objects.filter(type=Event.Type.TAG_CREATED).exists()

    destination = make_destination(event_types=["tag.created"])
    mapping_save(destination=destination, event_type="tag.created", rows=[
        {"target": "tagName", "source": "payload.name", "transform": "upper"},
        {"target": "source", "constant": "tagscope"},
    ])
    created = hl.add_tag(location.location_id, "Winter Launch 2026")
    refresh_location_enqueue(location, kinds=["tags"])
    sending.deliveries_sweep()

    event = Event.objects.get(type=Event.Type.TAG_CREATED)
    assert event.subject_id == created["_id"]
    messages = receiver.receiver.received()
    assert len(messages) == 1
    message = messages[0]
    assert message["valid"] is True
    assert message["body"]["type"] == "tag.created"
    assert message["body"]["data"] == {"tagName": "WINTER LAUNCH 2026", "source": "tagscope"}
    assert destination.deliveries.get().status == "delivered"
