"""Tag performance's figures kept per process while the data they are computed from stays the same.

Summing a year of a big location's tag links takes SQLite 50-100 ms (bench/performance.py); the same page,
re-sorted, filtered by name or paged, asks for the same sums. `memo_get` keeps the last results, keyed by what
was asked and by the locations' data versions: any write of the posts sync (a post, its insights, its tag
links) or of the tags sync changes a location's version, so the next view computes afresh. Nothing is ever
invalidated by hand.

An agency's campaigns are summed from every location; after one location's sync, only that location's part
changes. `Kept` holds such per-location parts apart (campaigns.py), so that the others are not summed again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from django.db.models import Count, Max

from integrations.models import Location, Post, Tag, TagPost

T = TypeVar("T")


class Kept:
    """A small thread-safe LRU of computed answers. Answers are shared: callers must not change them."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


MEMO = Kept(64)  # whole answers: a scorecard, an agency's campaign list
PARTS = Kept(4096)  # per-location parts of agency-wide answers (campaigns.py), a few per location


def memo_clear() -> None:
    """Forget everything kept (benchmarks time the first view after a sync with it)."""
    MEMO.clear()
    PARTS.clear()


def data_versions(locations: Iterable[Location]) -> dict[int, tuple]:
    """{location pk: what tag performance over it is computed from}, in three grouped aggregates over indexes
    whatever the number of locations: tag links change ids whenever the posts sync rewrites them
    (TagPost.COPIED changed); posts their count when created or deleted and their newest `last_seen_at`
    whenever the sync changes one (an untagged post's insights move the baselines); tags their count or
    `updated_at` when created, renamed or removed. A location without rows has the empty version."""
    pks = [loc.pk for loc in locations]
    versions: dict[int, list] = {pk: [] for pk in pks}
    for model, aggregates in (
            (TagPost, {"n": Count("pk"), "top": Max("pk")}),
            (Post, {"n": Count("pk"), "seen": Max("last_seen_at")}),
            (Tag, {"n": Count("pk"), "top": Max("pk"), "changed": Max("updated_at"), "seen": Max("last_seen_at")})):
        found = {row[0]: row[1:] for row in model.objects.filter(location__in=pks).values_list("location_id")
                 .annotate(**aggregates).order_by()}
        for pk, version in versions.items():
            version.append(found.get(pk))
    return {pk: tuple(version) for pk, version in versions.items()}


def data_version(locations: Iterable[Location]) -> tuple:
    """The versions of all these locations, as one key."""
    return tuple(sorted(data_versions(locations).items()))


def memo_get(key: tuple, locations: list[Location], compute: Callable[[], T]) -> T:
    """compute(), or what it answered for the same key while the locations' data version stays the same.
    The answer is shared: callers must not change it."""
    key = (*key, data_version(locations))
    found = MEMO.get(key)
    if found is None:
        found = compute()
        MEMO.put(key, found)
    return found
