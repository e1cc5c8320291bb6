"""Rules asked in many places live on the models, and the row-level and SQL forms of each agree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection, Location, Tag
from integrations.models.mirror import NEW_TAG_DAYS
from integrations.sync.manual import RefreshRefused, refresh_location_request
from tests.dashboard.browsing_factories import location_make, tag_make

pytestmark = pytest.mark.django_db


def test_a_connection_is_usable_while_active_or_expiring():
    for status in Connection.Status.values:
        Connection.objects.create(name=status, kind=Connection.Kind.PRIVATE_TOKEN, location_id=status, status=status)
    usable = set(Connection.objects.usable().values_list("status", flat=True))
    assert usable == {"active", "expiring"}
    assert {c.status for c in Connection.objects.all() if c.is_usable} == usable


def test_a_location_may_be_refreshed_when_installed_with_a_usable_connection():
    fine, revoked, uninstalled = location_make("loc-1"), location_make("loc-2"), location_make("loc-3")
    orphan = Location.objects.create(location_id="loc-4", name="No connection")
    Connection.objects.filter(locations=revoked).update(status=Connection.Status.REVOKED)
    Location.objects.filter(pk=uninstalled.pk).update(is_installed=False)
    rows = Location.objects.select_related("connection")
    assert [loc.location_id for loc in rows if loc.can_refresh] == [fine.location_id]
    assert list(Location.objects.syncable().values_list("location_id", flat=True)) == [fine.location_id]
    for location in (revoked, uninstalled, orphan):
        with pytest.raises(RefreshRefused, match="cannot sync"):
            refresh_location_request(Location.objects.get(pk=location.pk), actor=None)


def test_a_tag_is_new_within_the_days_unless_removed_or_baseline():
    now = timezone.now()
    location = location_make()
    tag_make(location, "fresh", first_seen=now - timedelta(days=1))
    tag_make(location, "old", first_seen=now - timedelta(days=NEW_TAG_DAYS, minutes=1))
    tag_make(location, "baseline", first_seen=now - timedelta(days=1), baseline=True)
    tag_make(location, "removed", first_seen=now - timedelta(days=1), removed=now)
    assert [t.name for t in Tag.objects.order_by("name") if t.is_new(now)] == ["fresh"]
    assert list(Tag.objects.new(now).values_list("name", flat=True)) == ["fresh"]
    assert not Tag.objects.get(name="fresh").is_new(now + timedelta(days=NEW_TAG_DAYS))
