"""A location's tags against the live sandbox: a first sync mirrors it exactly, changes raise the right
events, a second unchanged sync writes nothing, and bad answers never mark a tag removed."""

from __future__ import annotations

import pytest
from django.db import connection

from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.parsing import parse_datetime
from integrations.models import Event, Location, Post, SocialAccount, StatisticsPoint, SyncRun, Tag, TagDetail, TagPost
from integrations.sync.services import refresh_location_enqueue
from integrations.sync.tags import tags_by_id
from integrations.sync.upsert import fingerprint


def sync(location, kinds=None) -> SyncRun:
    run = refresh_location_enqueue(location, kinds=kinds)
    run.refresh_from_db()
    return run


def test_a_first_sync_equals_the_sandbox_exactly_and_raises_no_tag_created(hl, location):
    run = sync(location)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    truth = {t["_id"]: t for t in hl.tags(location.location_id)}
    mirror = {t.tag_id: t for t in Tag.objects.filter(location=location)}
    assert mirror.keys() == truth.keys()
    for tag_id, raw in truth.items():
        row = mirror[tag_id]
        assert row.name == raw["tag"] and row.raw == raw
        assert row.deleted == bool(raw.get("deleted"))
        assert (row.removed_at is not None) == bool(raw.get("deleted"))
        assert row.created_at == parse_datetime(raw["createdAt"], "createdAt")
        assert row.updated_at == parse_datetime(raw["updatedAt"], "updatedAt")
        assert row.is_baseline and row.sort_name == raw["tag"].casefold()
    active = [t for t in truth.values() if not t.get("deleted")]
    assert TagDetail.objects.filter(tag__location=location).count() == len(active)
    assert not Event.objects.filter(type=Event.Type.TAG_CREATED).exists()
    assert SocialAccount.objects.filter(location=location).count() > 0
    assert Post.objects.filter(location=location).exists() and TagPost.objects.filter(location=location).exists()
    assert StatisticsPoint.objects.filter(location=location, profile_id="").exists()
    location.refresh_from_db()
    assert location.first_synced_at and location.last_sync_status == "succeeded" and location.tags_baselined_at


def test_a_second_unchanged_sync_writes_nothing(hl, location):
    sync(location)
    events = Event.objects.count()
    again = sync(location)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.counts["rows_written"] == 0
    assert again.counts["created"] == again.counts["updated"] == again.counts["removed"] == 0
    assert all(child.counts["rows_written"] == 0 for child in again.children.all())
    assert Event.objects.count() == events


def test_rename_delete_and_add_in_highlevel_raise_the_right_events(hl, location):
    sync(location, ["tags"])
    first, second, third = [t for t in hl.tags(location.location_id) if not t.get("deleted")][:3]
    hl.rename_tag(location.location_id, first["_id"], "Renamed in HighLevel")
    hl.delete_tag(location.location_id, second["_id"])  # soft: deleted true
    hl.delete_tag(location.location_id, third["_id"], hard=True)  # gone from the listing
    added = hl.add_tag(location.location_id, "Brand new tag")
    run = sync(location, ["tags"])
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    events = {(e.type, e.subject_id): e for e in Event.objects.filter(location=location)}
    assert events[(Event.Type.TAG_UPDATED, first["_id"])].payload["previous_name"] == first["tag"]
    assert (Event.Type.TAG_REMOVED, second["_id"]) in events
    assert (Event.Type.TAG_REMOVED, third["_id"]) in events
    assert (Event.Type.TAG_CREATED, added["_id"]) in events
    assert Tag.objects.get(tag_id=first["_id"]).name == "Renamed in HighLevel"
    soft, hard = Tag.objects.get(tag_id=second["_id"]), Tag.objects.get(tag_id=third["_id"])
    assert soft.deleted and soft.removed_at and hard.removed_at and not hard.deleted
    new = Tag.objects.get(tag_id=added["_id"])
    assert not new.is_baseline and new.removed_at is None
    assert run.counts["created"] == 1 and run.counts["removed"] == 2 and run.counts["updated"] == 1


def test_a_tag_that_comes_back_is_active_again(hl, location):
    sync(location, ["tags"])
    tag = next(t for t in hl.tags(location.location_id) if not t.get("deleted"))
    # As if an earlier listing had missed it:
    Tag.objects.filter(tag_id=tag["_id"]).update(removed_at="2020-01-01T00:00:00Z")
    sync(location, ["tags"])
    assert Tag.objects.get(tag_id=tag["_id"]).removed_at is None
    assert Event.objects.get(type=Event.Type.TAG_CREATED, subject_id=tag["_id"]).payload["reappeared"] is True


@pytest.mark.parametrize("fault", [
    {"malformed_rate": 1.0},
    {"truncated_rate": 1.0},
    {"error_rate": 1.0, "error_status": 503},
])
def test_a_listing_that_fails_half_way_marks_nothing_removed(hl, location, fault):
    sync(location, ["tags"])
    before = {t.tag_id: (t.name, t.removed_at) for t in Tag.objects.filter(location=location)}
    events = Event.objects.count()
    hl.add_fault(path="/tags$", locations=[location.location_id], **fault)
    run = sync(location, ["tags"])
    assert run.status == SyncRun.Status.WAITING  # it comes back later with backoff
    assert run.error and run.next_attempt_at
    assert {t.tag_id: (t.name, t.removed_at) for t in Tag.objects.filter(location=location)} == before
    assert Event.objects.count() == events
    if "malformed_rate" in fault:
        assert run.problems and run.trace_ids


def test_bad_items_are_recorded_and_the_good_ones_kept_without_removals(hl, location, settings):
    settings.HIGHLEVEL_MAX_RETRIES = 0
    hl.add_fault(path="/tags$", locations=[location.location_id], malformed_rate=0.5, seed=3)
    run = sync(location, ["tags"])
    assert run.status == SyncRun.Status.WAITING
    assert run.problems and run.trace_ids
    assert not Tag.objects.filter(location=location, removed_at__isnull=False, deleted=False).exists()
    hl.clear_faults()
    from integrations.sync.services import sync_unit_execute

    assert sync_unit_execute(run_id=run.pk) == "succeeded"
    truth = {t["_id"] for t in hl.tags(location.location_id)}
    assert set(Tag.objects.filter(location=location).values_list("tag_id", flat=True)) == truth


def test_tags_are_looked_up_by_id_through_the_location_id_index(db):
    """Tag's default ordering (by name) made SQLite walk every tag of the location for each batch of
    ids: quadratic, 250 s instead of 25 on 100,000 tags (bench/sync.py)."""
    found = tags_by_id(Location(pk=1), ["a", "b"]).values_list("tag_id", "pk")
    assert "ORDER BY" not in str(found.query)
    if connection.vendor == "sqlite":  # PostgreSQL's planner chooses by its statistics
        plan = found.explain()
        assert "(location_id=? AND tag_id=?)" in plan, plan


def stored_counts(location) -> tuple[int | None, int | None]:
    location.refresh_from_db()
    return location.tag_count_active, location.tag_count_removed


def live_counts(location) -> tuple[int, int]:
    tags = Tag.objects.filter(location=location)
    return tags.filter(removed_at__isnull=True).count(), tags.filter(removed_at__isnull=False).count()


def test_the_stored_tag_counts_follow_adds_removals_and_reruns(hl, location):
    assert stored_counts(location) == (None, None)
    sync(location, ["tags"])
    assert stored_counts(location) == live_counts(location) and stored_counts(location)[0] > 0
    active, removed = stored_counts(location)
    first, second = [t for t in hl.tags(location.location_id) if not t.get("deleted")][:2]
    hl.delete_tag(location.location_id, first["_id"], hard=True)
    hl.delete_tag(location.location_id, second["_id"])
    hl.add_tag(location.location_id, "Counted once")
    hl.add_tag(location.location_id, "Counted twice")
    sync(location, ["tags"])
    assert stored_counts(location) == live_counts(location) == (active, removed + 2)
    again = sync(location, ["tags"])  # a rerun: the same counts, nothing written
    assert stored_counts(location) == (active, removed + 2) and again.counts["rows_written"] == 0


def test_an_unchanged_tag_is_not_marked_removed_and_a_missing_one_is(hl, location):
    """The seen-set is a bitmap of unchanged rows' ids; created and changed rows count as seen by time."""
    sync(location, ["tags"])
    kept, renamed, dropped = [t for t in hl.tags(location.location_id) if not t.get("deleted")][:3]
    hl.rename_tag(location.location_id, renamed["_id"], "Still here")
    hl.delete_tag(location.location_id, dropped["_id"], hard=True)
    added = hl.add_tag(location.location_id, "Just added")
    sync(location, ["tags"])
    removed = set(Tag.objects.filter(location=location, removed_at__isnull=False).values_list("tag_id", flat=True))
    assert dropped["_id"] in removed
    assert not {kept["_id"], renamed["_id"], added["_id"]} & removed


def test_the_details_state_read_in_plain_sql_is_what_the_orm_reads(hl, location):
    from integrations.sync.tags import _details_state

    sync(location, ["tags"])
    ids = [*Tag.objects.filter(location=location).order_by("tag_id").values_list("tag_id", flat=True)[:30], "gone"]
    tags, stored = _details_state(location.pk, ids)
    assert tags == {tag_id: (pk, name, details_for) for tag_id, pk, name, details_for in Tag.objects.filter(
        location=location, tag_id__in=ids).values_list("tag_id", "pk", "name", "details_for")}
    assert stored and stored == {tag_pk: (pk, data) for pk, tag_pk, data in TagDetail.objects.filter(
        tag__location=location, tag__tag_id__in=ids).values_list("pk", "tag_id", "data")}
    assert all(isinstance(data, dict) for _, data in stored.values())  # decoded as the ORM decodes JSON
    assert _details_state(location.pk, []) == ({}, {}) and _details_state(location.pk, ["gone"]) == ({}, {})


def test_details_are_asked_once_for_new_and_relisted_tags_and_read_back_from_their_rows(hl, location, monkeypatch):
    """The listing keeps only a bitmap of the row ids whose details are due (no list of ids and fingerprints
    that grew with the tags); the details phase reads each batch's ids and listings back from the rows.
    So: every active tag asked once in a first sync, its stored listing's fingerprint recorded; then only
    the renamed and the added; then nothing."""
    asked: list[str] = []
    real = HighLevelClient.get_tag_details

    def spy(self, location_id, tag_ids, **kwargs):
        tag_ids = list(tag_ids)
        asked.extend(tag_ids)
        return real(self, location_id, tag_ids, **kwargs)

    monkeypatch.setattr(HighLevelClient, "get_tag_details", spy)
    sync(location, ["tags"])
    listed = [t for t in hl.tags(location.location_id) if not t.get("deleted")]
    assert sorted(asked) == sorted(t["_id"] for t in listed)
    active = Tag.objects.filter(location=location, removed_at__isnull=True)
    assert active.count() == len(listed) and all(tag.details_for == fingerprint(tag.raw) for tag in active)
    asked.clear()
    renamed = listed[1]
    hl.rename_tag(location.location_id, renamed["_id"], "Renamed for its details")
    added = hl.add_tag(location.location_id, "Added with details")
    sync(location, ["tags"])
    assert sorted(asked) == sorted([renamed["_id"], added["_id"]])
    assert TagDetail.objects.get(tag__tag_id=added["_id"]).data["tag"] == "Added with details"
    asked.clear()
    assert sync(location, ["tags"]).counts["rows_written"] == 0 and asked == []


def test_the_details_phase_reads_each_listing_back_as_the_orm_would(location):
    # Read in plain SQL, decoded by the field: the same data (an integer past 64 bits too), so the same
    # fingerprint as the listing's.
    from django.utils import timezone

    from integrations.pk_set import PkSet
    from integrations.sync.tags import _due_batches

    now = timezone.now()
    listings = {"plain": {"_id": "plain", "name": "Café ☕", "n": 1.5, "tags": [1, 2]},
                "odd": {"_id": "odd", "big": 2**70, "small": -(2**70)}}
    due = PkSet()
    for tag_id, raw in listings.items():
        due.add(Tag.objects.create(location=location, tag_id=tag_id, name=tag_id, sort_name=tag_id, raw=raw,
                                   first_seen_at=now, last_seen_at=now).pk)
    (batch,) = _due_batches(due)
    stored = dict(Tag.objects.filter(pk__in=list(due)).values_list("tag_id", "raw"))
    assert batch == {tag_id: fingerprint(raw) for tag_id, raw in stored.items()}
    assert batch["plain"] == fingerprint(listings["plain"])
