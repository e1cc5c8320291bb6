"""Destinations: encrypted secrets, rotation with an overlap, mappings, test sends, and the end-to-end path."""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations.delivery import sending, services, signing
from integrations.models.delivery import Delivery, Destination


def test_the_secret_is_stored_encrypted_and_never_logged(db, caplog):
    caplog.set_level(logging.DEBUG)
    destination, secret = services.destination_create(name="Pleo", url="https://hooks.example.com/",
                                                      event_types=["tag.created"])
    stored = Destination.objects.filter(pk=destination.pk).values_list("secret_enc", flat=True).get()
    assert secret.startswith("whsec_") and secret not in stored
    assert sending.destination_secrets(destination) == [secret]
    assert secret not in caplog.text


def test_a_rotation_overlap_signs_with_both_secrets_until_it_ends(db):
    destination, old = services.destination_create(name="Pleo", url="https://hooks.example.com/",
                                                   event_types=["tag.created"])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        new = services.destination_rotate_secret(destination=destination, overlap=timedelta(hours=24))
        assert sending.destination_secrets(destination) == [new, old]
        headers = signing.headers_for(sending.destination_secrets(destination), "msg_1", b"{}")
        assert signing.verify(old, headers, b"{}") and signing.verify(new, headers, b"{}")
        clock.shift(timedelta(hours=24, seconds=1))
        assert sending.destination_secrets(destination) == [new]
    newest = services.destination_rotate_secret(destination=destination, overlap=timedelta(0))
    assert sending.destination_secrets(destination) == [newest]


def test_a_mapping_is_validated_on_save(db):
    destination, _ = services.destination_create(name="X", url="https://x.example.com/", event_types=["tag.created"])
    with pytest.raises(services.MappingInvalid) as caught:
        services.mapping_save(destination=destination, event_type="tag.created",
                              rows=[{"target": "", "source": "payload.name"}])
    assert caught.value.errors == ["Row 1: give the output name."]
    rows = [{"target": "tag", "source": "payload.name", "transform": "upper"}]
    services.mapping_save(destination=destination, event_type="tag.created", rows=rows)
    assert services.mapping_rows(destination, "tag.created") == rows
    services.mapping_save(destination=destination, event_type="tag.created", rows=[])
    assert services.mapping_rows(destination, "tag.created") == []


def test_the_preview_uses_the_newest_real_event_or_a_sample(db, make_event):
    destination, _ = services.destination_create(name="X", url="https://x.example.com/", event_types=["tag.created"])
    rows = [{"target": "tag", "source": "payload.name", "transform": "lower"}]
    preview = services.mapping_preview(destination=destination, event_type="tag.created", rows=rows)
    assert preview == {"type": "tag.created", "timestamp": "2025-01-16T10:00:00+00:00", "test": True,
                       "data": {"tag": "vip customer"}}
    make_event("tag.created", name="Spring Sale")
    preview = services.mapping_preview(destination=destination, event_type="tag.created", rows=rows)
    assert preview["data"] == {"tag": "spring sale"}


def test_a_test_event_is_marked_sent_once_even_while_paused(make_destination, receiver):
    destination = make_destination()
    sending.destination_pause(destination_id=destination.pk, reason="x", automatic=False)
    delivery = services.destination_send_test(destination=destination, event_type="tag.removed")
    assert delivery.status == Delivery.Status.DELIVERED and delivery.is_test
    message = receiver.receiver.received()[0]
    assert message["test"] is True and message["valid"] is True
    failing = make_destination("/status/500")
    assert services.destination_send_test(destination=failing, event_type="tag.created").status == "dead"
    failing.refresh_from_db()
    assert failing.is_active and failing.consecutive_failures == 0  # tests never count towards a pause


def test_end_to_end_a_sandbox_tag_event_reaches_the_receiver_mapped_and_signed(make_destination, make_event,
                                                                              location, receiver):
    destination = make_destination(event_types=["tag.created"], locations=[location])
    services.mapping_save(destination=destination, event_type="tag.created", rows=[
        {"target": "tagName", "source": "payload.name", "transform": "lower"},
        {"target": "location", "source": "location_name"},
        {"target": "app", "constant": "tagscope"},
    ])
    event = make_event("tag.created", location=location, tag_id="6655aa11bb22cc33dd44ee55", name="Summer VIP")
    sending.deliveries_sweep()
    [message] = receiver.receiver.received()
    assert message["valid"] is True and message["type"] == "tag.created" and message["test"] is False
    assert message["body"]["data"] == {"tagName": "summer vip", "location": "Sandbox Bakery", "app": "tagscope"}
    delivery = Delivery.objects.get()
    assert (delivery.event_seq, message["webhook_id"]) == (event.pk, delivery.message_id)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and '"ok": true' in attempt.response_excerpt


def test_add_destination_prints_the_secret_once(db, location):
    out = StringIO()
    call_command("add_destination", "PEP Cloud", "https://pep.example.com/hooks",
                 "--events", "tag.created,tag.removed", "--location", location.location_id, stdout=out)
    destination = Destination.objects.get()
    secret = out.getvalue().split("Signing secret (shown only now): ")[1].strip()
    assert sending.destination_secrets(destination) == [secret]
    assert destination.event_types == ["tag.created", "tag.removed"]
    assert list(destination.locations.all()) == [location] and not destination.all_locations


@pytest.mark.parametrize(
    ("url", "args", "message"),
    [("https://x.example.com/", ["--events", "tag.exploded"], "Unknown or missing event types"),
     ("https://x.example.com/", ["--events", "tag.created", "--location", "nope"], "No such location: nope"),
     ("ftp://x.example.com/", ["--events", "tag.created"], "Use an http:// or https:// URL")],
)
def test_add_destination_refuses_bad_input(db, url, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_destination", "X", url, *args)
    assert not Destination.objects.exists()
