"""The destinations pages: add (secret shown once), edit, rotate, pause/resume, mapping with preview,
test send, delivery log and redelivery. Marketers never get in (see test_url_permissions.py too)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.devtools.receiver import DEMO_SECRET
from integrations.delivery import sending, services
from integrations.models.delivery import Delivery, Destination
from tests.integrations.delivery import conftest as delivery_fixtures

# The delivery tests' fixtures: a live receiver on a free port (and a location).
location = delivery_fixtures.location
receiver = delivery_fixtures.receiver
receiver_secret = delivery_fixtures.receiver_secret


@pytest.fixture
def destination(db, receiver):
    made, _ = services.destination_create(name="Receiver", url=f"{receiver.url}/", event_types=["tag.created"],
                                          secret=receiver.receiver.secrets[0])
    return made


def test_an_admin_adds_a_destination_and_sees_its_secret_exactly_once(admin_http, receiver):
    response = admin_http.post(reverse("destination_add"), {
        "name": "Plezi", "url": f"{receiver.url}/in", "event_types": ["tag.created", "tag.removed"]})
    destination = Destination.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("destination_detail", args=[destination.pk])
    [secret] = sending.destination_secrets(destination)
    first = admin_http.get(response["Location"]).content.decode()
    assert secret in first and "will not be shown again" in first
    assert secret not in admin_http.get(response["Location"]).content.decode()
    assert secret not in admin_http.get(reverse("destinations")).content.decode()


def test_private_urls_are_refused_with_a_clear_message(admin_http, settings):
    settings.DESTINATION_ALLOWED_HOSTS = []
    response = admin_http.post(reverse("destination_add"), {
        "name": "Inside", "url": "http://169.254.169.254/latest/", "event_types": ["tag.created"]})
    assert response.status_code == 200 and not Destination.objects.exists()
    assert "link-local or metadata address" in response.content.decode()


def test_marketers_are_refused(marketer_http, destination):
    assert marketer_http.get(reverse("destinations")).status_code == 403
    assert marketer_http.post(reverse("destination_test", args=[destination.pk])).status_code == 403


def test_rotate_shows_the_new_secret_once_and_keeps_the_old_during_the_overlap(admin_http, destination):
    [old] = sending.destination_secrets(destination)
    response = admin_http.post(reverse("destination_rotate", args=[destination.pk]), {"overlap": "86400"}, follow=True)
    new, still_old = sending.destination_secrets(Destination.objects.get())
    assert still_old == old and new in response.content.decode()
    assert "Two secrets sign until" in response.content.decode()


def test_pause_and_resume(admin_http, destination):
    admin_http.post(reverse("destination_pause", args=[destination.pk]))
    destination.refresh_from_db()
    assert not destination.is_active and "admin@example.com" in destination.paused_reason
    admin_http.post(reverse("destination_resume", args=[destination.pk]))
    destination.refresh_from_db()
    assert destination.is_active


def test_edit_and_delete(admin_http, destination, location):
    admin_http.post(reverse("destination_edit", args=[destination.pk]), {
        "name": "Renamed", "url": destination.url, "event_types": ["tag.removed"], "locations": [location.pk]})
    destination.refresh_from_db()
    assert (destination.name, destination.event_types, destination.all_locations) == ("Renamed", ["tag.removed"], False)
    admin_http.post(reverse("destination_delete", args=[destination.pk]), {"confirm": "on"})
    assert not Destination.objects.exists()


def mapping_post(rows, action):
    data = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0", "action": action}
    for n, row in enumerate(rows):
        data.update({f"rows-{n}-{key}": value for key, value in row.items()})
    return data


def test_the_mapping_form_previews_validates_and_saves(admin_http, destination):
    url = reverse("mapping_edit", args=[destination.pk, "tag.created"])
    page = admin_http.get(url).content.decode()
    assert "Preview" in page and "js/destinations-mapping.js" in page
    rows = [{"target": "tag", "source": "payload.name", "transform": "upper"}, {"target": "n", "constant": "42"},
            {"target": "", "source": ""}]
    preview = admin_http.post(url, mapping_post(rows, "preview")).content.decode()
    assert "&quot;tag&quot;: &quot;VIP CUSTOMER&quot;" in preview and "&quot;n&quot;: 42" in preview
    assert services.mapping_rows(destination, "tag.created") == []  # a preview saves nothing
    bad = admin_http.post(url, mapping_post([{"target": "a b", "source": "payload.name"}], "save"))
    assert "Row 1: “a b” is not a valid output name" in bad.content.decode()
    saved = admin_http.post(url, mapping_post(rows, "save"))
    assert saved.status_code == 302
    assert services.mapping_rows(destination, "tag.created") == [
        {"target": "tag", "source": "payload.name", "transform": "upper"}, {"target": "n", "constant": 42}]
    assert 'value="42"' in admin_http.get(url).content.decode()


def test_the_json_preview_answers_the_mapped_body_or_the_errors(admin_http, destination):
    url = reverse("mapping_preview", args=[destination.pk, "tag.created"])
    good = admin_http.post(url, mapping_post([{"target": "x", "source": "payload.name", "transform": "lower"}], ""))
    assert good.json() == {"ok": True, "body": {"type": "tag.created", "timestamp": "2025-01-16T10:00:00+00:00",
                                                "test": True, "data": {"x": "vip customer"}}}
    bad = admin_http.post(url, mapping_post([{"target": "x", "source": "payload.name", "transform": "date",
                                              "arg": "%Q"}], ""))
    assert bad.json()["ok"] is False and "not a date format" in bad.json()["errors"][0]
    assert admin_http.get(reverse("mapping_edit", args=[destination.pk, "nope"])).status_code == 404


def test_send_test_event_then_see_it_in_the_log(admin_http, destination, receiver):
    response = admin_http.post(reverse("destination_test", args=[destination.pk]), {"event_type": "tag.created"},
                               follow=True)
    page = response.content.decode()
    assert "Test tag.created delivered (HTTP 200)" in page
    assert "HTTP 200" in page and Delivery.objects.get().message_id in page
    assert receiver.receiver.received()[0]["test"] is True


def test_redeliver_one_and_all_failed_from_the_log(admin_http, destination, receiver):
    services.destination_send_test(destination=destination, event_type="tag.created")
    delivery = Delivery.objects.get()
    Delivery.objects.update(status=Delivery.Status.DEAD)
    page = admin_http.get(reverse("destination_detail", args=[destination.pk]) + "?status=dead").content.decode()
    assert "Redeliver all failed (1)" in page
    admin_http.post(reverse("delivery_redeliver", args=[destination.pk, delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempt_log.count() == 2
    Delivery.objects.update(status=Delivery.Status.DEAD)
    response = admin_http.post(reverse("deliveries_redeliver_failed", args=[destination.pk]), follow=True)
    assert "1 failed deliveries are being sent again" in response.content.decode()
    assert len(receiver.receiver.received()) == 3


def test_the_demo_receiver_is_offered_under_debug_only(admin_http, settings):
    settings.DEBUG = False
    assert "Add the local demo receiver" not in admin_http.get(reverse("destinations")).content.decode()
    assert admin_http.post(reverse("destination_add_demo")).status_code == 404
    settings.DEBUG = True
    assert "Add the local demo receiver" in admin_http.get(reverse("destinations")).content.decode()
    admin_http.post(reverse("destination_add_demo"))
    assert sending.destination_secrets(Destination.objects.get()) == [DEMO_SECRET]
    assert "Add the local demo receiver" not in admin_http.get(reverse("destinations")).content.decode()
