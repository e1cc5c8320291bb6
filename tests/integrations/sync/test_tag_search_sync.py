"""The search index after real syncs against the sandbox: renames, removals and additions in HighLevel are
found (or not) by the next search, and a second unchanged sync leaves the index as it was."""

from __future__ import annotations

from integrations.models import SyncRun, Tag
from integrations.sync.services import refresh_location_enqueue
from tests.integrations.test_tag_search import assert_index_in_step


def sync(location) -> SyncRun:
    run = refresh_location_enqueue(location, kinds=["tags"])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def names(location, needle: str) -> set[str]:
    return set(Tag.objects.filter(location=location).search(needle).values_list("name", flat=True))


def test_the_index_follows_renames_removals_and_additions_in_highlevel(hl, location):
    sync(location)
    assert_index_in_step()
    first, second, third = [t for t in hl.tags(location.location_id) if not t.get("deleted")][:3]
    assert first["tag"] in names(location, first["tag"][-4:] if len(first["tag"]) >= 4 else first["tag"])
    hl.rename_tag(location.location_id, first["_id"], "Zebracrossing Renamed")
    hl.delete_tag(location.location_id, second["_id"], hard=True)
    hl.add_tag(location.location_id, "Quokka Brand New")
    sync(location)
    assert_index_in_step()
    assert names(location, "zebracross") == {"Zebracrossing Renamed"}
    assert names(location, "QUOKKA") == {"Quokka Brand New"}
    assert second["tag"] in names(location, second["tag"])  # removed, not deleted: the status filter hides it
    assert all(name != first["tag"] for name in names(location, first["tag"]))
    again = sync(location)
    assert again.counts["rows_written"] == 0
    assert_index_in_step()
    assert third["tag"] in names(location, third["tag"])
