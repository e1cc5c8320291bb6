"""The refresh-schedule form on a connection's page: admins set minutes per kind; the schedules follow."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_q.models import Schedule

from integrations.models import Connection
from integrations.schedules import ensure_schedules
from integrations.sync.scheduling import schedule_name


@pytest.fixture
def connection(db):
    return Connection.objects.create(name="Agency", kind=Connection.Kind.OAUTH_AGENCY, company_id="c1")


def test_the_connection_page_shows_the_schedule_form(admin_http, connection):
    page = admin_http.get(reverse("connection_detail", args=[connection.pk]))
    assert reverse("connection_schedule", args=[connection.pk]).encode() in page.content
    assert b'name="tags_every_minutes"' in page.content


def test_an_admin_changes_the_frequency_and_the_schedule_follows(admin_http, connection):
    ensure_schedules()
    assert Schedule.objects.get(name=schedule_name(connection.pk, "tags")).minutes == 15
    answer = admin_http.post(reverse("connection_schedule", args=[connection.pk]), {
        "tags_every_minutes": "1", "statistics_every_minutes": "30", "accounts_every_minutes": "1440"})
    assert answer.status_code == 302
    assert Schedule.objects.get(name=schedule_name(connection.pk, "tags")).minutes == 1
    assert Schedule.objects.get(name=schedule_name(connection.pk, "statistics")).minutes == 30
    assert Schedule.objects.get(name=schedule_name(connection.pk, "accounts")).minutes == 1440


@pytest.mark.parametrize("minutes", ["0", "1441", "often"])
def test_it_refuses_a_frequency_outside_a_minute_to_a_day(admin_http, connection, minutes):
    admin_http.post(reverse("connection_schedule", args=[connection.pk]), {
        "tags_every_minutes": minutes, "statistics_every_minutes": "60", "accounts_every_minutes": "1440"})
    connection.refresh_from_db()
    assert connection.tags_every_minutes == 15


def test_a_marketer_cannot_change_it(marketer_http, connection):
    answer = marketer_http.post(reverse("connection_schedule", args=[connection.pk]), {
        "tags_every_minutes": "1", "statistics_every_minutes": "60", "accounts_every_minutes": "1440"})
    assert answer.status_code == 403
    connection.refresh_from_db()
    assert connection.tags_every_minutes == 15
