"""Fan-out, sending, retries with backoff, dead letters, auto-pause, redelivery, ordering and the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from integrations.delivery import sending, services
from integrations.models import Event
from integrations.models.delivery import Delivery, DeliveryAttempt


def sweep():
    return sending.deliveries_sweep()


def got(receiver):
    return receiver.receiver.received()


def test_each_event_becomes_one_delivery_per_matching_destination_idempotently(make_destination, make_event,
                                                                              location, receiver):
    wants_created = make_destination(event_types=["tag.created"])
    make_destination(event_types=["tag.removed"])
    only_other_location = make_destination(event_types=["tag.created"], locations=[
        type(location).objects.create(location_id="otherLoc0001", name="Other")])
    make_event("tag.created", location=location)
    sweep()
    sweep()
    sending.deliveries_fan_out()  # again, and past the cursor's rewind: still one row
    assert list(Delivery.objects.values_list("destination_id", flat=True)) == [wants_created.pk]
    assert not only_other_location.deliveries.exists()
    assert len(got(receiver)) == 1


def test_events_before_a_destination_existed_are_not_sent(make_destination, make_event, receiver):
    make_event("tag.created")
    make_destination()
    sweep()
    assert not Delivery.objects.exists()


def test_a_failing_destination_is_retried_on_the_standard_webhooks_schedule_then_dead_and_paused(
        make_destination, make_event, receiver):
    from django_q.models import Schedule

    destination = make_destination("/status/503")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        make_event("tag.created")
        sweep()
        delivery = Delivery.objects.get()
        # The 5-second retry comes sooner than the every-minute sweep: a one-off schedule sends it.
        soon = Schedule.objects.get(name__startswith=f"tagscope.delivery.retry.{delivery.pk}.")
        assert soon.func == "integrations.tasks.delivery_send" and soon.args == repr((delivery.pk,))
        waits = []
        for _ in range(7):
            delivery.refresh_from_db()
            waits.append(delivery.next_attempt_at - timezone.now())
            clock.shift(waits[-1] - timedelta(seconds=1))
            sweep()  # not due yet: nothing sent
            clock.shift(timedelta(seconds=1))
            sweep()
        delivery.refresh_from_db()
    schedule = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]
    # Jittered up to a fifth later, never earlier.
    assert all(nominal <= wait <= nominal * 1.2 for wait, nominal in zip(waits, schedule, strict=True)), waits
    assert len(set(w / n for w, n in zip(waits, schedule, strict=True))) > 1  # not one fixed factor
    assert Schedule.objects.filter(name__startswith="tagscope.delivery.retry.").count() == 1  # the 5 s one only
    assert delivery.status == Delivery.Status.DEAD and delivery.attempts == 8
    assert len(got(receiver)) == 8
    assert len({m["webhook_id"] for m in got(receiver)}) == 1  # one stable id for every attempt
    assert [a.status_code for a in delivery.attempt_log.all()] == [503] * 8
    destination.refresh_from_db()
    assert not destination.is_active and "Paused automatically" in destination.paused_reason
    paused = Event.objects.get(type=Event.Type.DESTINATION_PAUSED)
    assert paused.payload["destination_id"] == destination.pk


def test_a_success_in_between_keeps_the_destination_active(make_destination, make_event, receiver):
    destination = make_destination("/status/503")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        make_event("tag.created", tag_id="a")
        sweep()
        latest = [timedelta(seconds=sending.RETRY_BACKOFF.nominal(n) * 1.2) for n in range(4)]  # jitter's top
        for delay in latest[:3]:
            clock.shift(delay)
            sweep()
        destination.url = destination.url.replace("/status/503", "/")
        destination.save()
        clock.shift(latest[3])
        sweep()
    destination.refresh_from_db()
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert destination.is_active and destination.consecutive_failures == 0


def test_an_admin_redelivers_one_and_all_failed(make_destination, make_event, receiver):
    destination = make_destination("/status/500")
    for tag in ("a", "b"):
        make_event("tag.created", tag_id=tag)
    sweep()
    Delivery.objects.update(status=Delivery.Status.DEAD)
    destination.url = destination.url.replace("/status/500", "/")
    destination.save()
    first, second = Delivery.objects.order_by("event_seq")
    assert sending.delivery_redeliver(delivery=first) == 1
    first.refresh_from_db()
    assert first.status == Delivery.Status.DELIVERED
    assert sending.deliveries_redeliver_failed(destination=destination) == 1
    second.refresh_from_db()
    assert second.status == Delivery.Status.DELIVERED
    assert [m["webhook_id"] for m in got(receiver)[:2]] == [second.message_id, first.message_id]


def test_a_later_event_never_overtakes_an_earlier_one_for_the_same_location(make_destination, make_event,
                                                                          location, receiver):
    destination = make_destination("/status/503")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        make_event("tag.created", location=location, tag_id="first")
        sweep()
        make_event("tag.removed", location=location, tag_id="first")
        make_event("tag.created", tag_id="elsewhere")  # no location: its own chain, not held up
        sweep()
        later = Delivery.objects.get(event_type="tag.removed")
        assert sending.delivery_send(delivery_id=later.pk) == "blocked"
        destination.url = destination.url.replace("/status/503", "/")
        destination.save()
        clock.shift(timedelta(minutes=1))
        sweep()
    order = [m["body"]["type"] for m in reversed(got(receiver))
             if m["path"] == "/" and m["body"]["data"]["location_id"] == location.location_id]
    assert order == ["tag.created", "tag.removed"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}


def test_the_sweeper_recovers_a_dropped_broker_message(make_destination, make_event, receiver, monkeypatch):
    make_destination()
    dropped = []
    monkeypatch.setattr(sending, "async_task", lambda *args, **kwargs: dropped.append(args))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        make_event("tag.created")
        sweep()
        assert len(dropped) == 1 and not got(receiver)  # the broker lost it (Redis has no receipts)
        monkeypatch.undo()
        sweep()
        assert not got(receiver)  # recently queued: not yet taken as lost
        clock.shift(sending.REENQUEUE_AFTER + timedelta(seconds=1))
        sweep()
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert len(got(receiver)) == 1


def test_a_claimed_delivery_is_not_sent_twice(make_destination, make_event, receiver, monkeypatch):
    make_destination()
    monkeypatch.setattr(sending, "async_task", lambda *args, **kwargs: None)
    make_event("tag.created")
    sweep()
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() + sending.LEASE)
    assert sending.delivery_send(delivery_id=delivery.pk) == "claimed elsewhere"
    assert not got(receiver)


def test_a_paused_destination_holds_its_deliveries_until_resumed(make_destination, make_event, receiver):
    destination = make_destination()
    sending.destination_pause(destination_id=destination.pk, reason="maintenance", automatic=False)
    make_event("tag.created")
    sweep()
    assert Delivery.objects.get().status == Delivery.Status.PENDING and not got(receiver)
    assert not Event.objects.filter(type=Event.Type.DESTINATION_PAUSED).exists()  # a manual pause: no alert
    assert services.destination_resume(destination=destination) == 1
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


@pytest.mark.parametrize("url", ["http://10.0.0.7/hook", "http://169.254.169.254/latest/meta-data/"])
def test_a_refused_address_is_a_failed_attempt_never_a_request(make_destination, make_event, settings, url):
    destination = make_destination()
    destination.url = url
    destination.save()
    make_event("tag.created")
    sweep()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "private, link-local or metadata" in attempt.error
