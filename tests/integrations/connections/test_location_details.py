"""Locations get their real name, time zone and address from HighLevel (GET /locations/{locationId}) on
connect; a missing scope or a HighLevel error keeps the current values and never fails the connect."""

from __future__ import annotations

import logging

import pytest

from integrations.connections.locations import location_details_refresh
from integrations.highlevel.types import LocationInfo
from integrations.models import Connection, Location
from tests.integrations.connections.test_admin_actions import add_pit
from tests.integrations.connections.test_oauth_flow import consent

SOCIAL_ONLY = ("socialplanner/tag.readonly socialplanner/account.readonly socialplanner/statistics.readonly "
               "socialplanner/post.readonly")


def sandbox_locations(hl) -> dict[str, dict]:
    return {loc["id"]: loc for loc in hl.state()["locations"]}


def connect(admin_http, hl, install: str, choice: str, scope: str | None = None):
    start = admin_http.get(f"/connections/oauth/start/?install={install}")
    return admin_http.get("/connections/oauth/callback/", consent(hl, start, choice, scope=scope), follow=True)


@pytest.mark.django_db
def test_an_agency_connect_gives_every_location_its_name_time_zone_and_address(hl, admin_http):
    company_id = hl.state()["agencies"][0]["id"]
    connect(admin_http, hl, "agency", f"company:{company_id}")
    truth = sandbox_locations(hl)
    locations = list(Location.objects.all())
    assert len(locations) == len(truth) == 3
    for location in locations:
        expected = truth[location.location_id]
        assert (location.name, location.timezone) == (expected["name"], expected["timezone"])
        assert location.address == f"{expected['address']}, US"
    assert {loc.timezone for loc in locations} != {"UTC"}
    assert hl.stats()["requests"]["by_endpoint"]["GET /locations/{locationId}"] == 3


@pytest.mark.django_db
def test_a_location_install_gets_its_time_zone_and_name(hl, admin_http):
    location_id = hl.location_ids()[1]
    response = connect(admin_http, hl, "location", f"location:{location_id}")
    assert b"Connected" in response.content
    expected = sandbox_locations(hl)[location_id]
    location = Location.objects.get(location_id=location_id)
    assert (location.name, location.timezone) == (expected["name"], expected["timezone"])
    assert expected["address"] in location.address


@pytest.mark.django_db
def test_a_location_install_without_locations_readonly_keeps_utc_and_says_why(hl, admin_http, caplog):
    location_id = hl.location_ids()[0]
    with caplog.at_level(logging.WARNING, logger="integrations.connections.locations"):
        page = connect(admin_http, hl, "location", f"location:{location_id}", scope=SOCIAL_ONLY).content.decode()
    assert "location name and time zone will not be read; dates show in UTC" in page
    location = Location.objects.get(location_id=location_id)
    assert (location.name, location.timezone) == (f"Location {location_id}", "UTC")
    assert Connection.objects.get().status == Connection.Status.ACTIVE
    assert "lacks locations.readonly" in caplog.text


@pytest.mark.django_db
def test_a_highlevel_error_on_the_details_never_fails_an_agency_connect(hl, admin_http, caplog, settings):
    settings.HIGHLEVEL_MAX_RETRIES = 0  # a 503 is retried otherwise; the point is what happens after
    hl.add_fault(error_rate=1.0, error_status=503, path="^/locations/")
    company_id = hl.state()["agencies"][0]["id"]
    with caplog.at_level(logging.WARNING, logger="integrations.connections.locations"):
        connect(admin_http, hl, "agency", f"company:{company_id}")
    truth = sandbox_locations(hl)
    locations = list(Location.objects.all())
    assert len(locations) == 3
    for location in locations:  # the installed-locations listing still named them; the time zone stays UTC
        assert (location.name, location.timezone) == (truth[location.location_id]["name"], "UTC")
    assert "could not be read" in caplog.text


@pytest.mark.django_db
def test_a_private_token_fills_time_zone_and_address_but_keeps_the_admin_s_name(hl, admin_http):
    add_pit(admin_http, hl, name="Downtown Dental")
    expected = sandbox_locations(hl)[hl.location_ids()[0]]
    location = Location.objects.get()
    assert (location.name, location.timezone) == ("Downtown Dental", expected["timezone"])
    assert expected["address"] in location.address


@pytest.mark.django_db
def test_a_private_token_without_a_name_takes_highlevel_s(hl, admin_http):
    add_pit(admin_http, hl, name="")
    assert Location.objects.get().name == sandbox_locations(hl)[hl.location_ids()[0]]["name"]


class FakeClient:
    def __init__(self, info: LocationInfo) -> None:
        self.info = info

    def get_location(self, location_id: str) -> LocationInfo:
        return self.info


@pytest.mark.django_db
def test_an_unknown_time_zone_is_not_stored(caplog):
    location = Location.objects.create(location_id="loc1", name="Old", timezone="Europe/Berlin")
    info = LocationInfo(id="loc1", name="New", timezone="Mars/Olympus_Mons")
    with caplog.at_level(logging.WARNING):
        assert location_details_refresh(location=location, client=FakeClient(info)) is True
    location.refresh_from_db()
    assert (location.name, location.timezone) == ("New", "Europe/Berlin")
    assert "Mars/Olympus_Mons" in caplog.text


@pytest.mark.django_db
def test_nothing_new_writes_nothing():
    location = Location.objects.create(location_id="loc1", name="Same", timezone="UTC")
    assert location_details_refresh(location=location, client=FakeClient(LocationInfo(id="loc1", name="Same"))) is False


@pytest.mark.django_db
def test_the_task_loads_the_location_by_highlevel_id(hl, admin_http):
    from integrations.tasks import location_details_refresh as task

    assert task("no-such-location") is False
    add_pit(admin_http, hl)
    Location.objects.update(timezone="UTC")
    assert task(hl.location_ids()[0]) is True
    assert Location.objects.get().timezone == sandbox_locations(hl)[hl.location_ids()[0]]["timezone"]
