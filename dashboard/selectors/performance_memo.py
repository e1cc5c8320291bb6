"""Answers computed from many rows, kept per process while the data they are computed from stays the same.

Summing a year of a big location's tag links takes SQLite 50-100 ms (bench/performance.py); the same page,
re-sorted, filtered by name or paged, asks for the same sums. `memo_get` keeps the last results, keyed by what
was asked and by the locations' data versions (Location.tags_version, Location.statistics_version): the sync
gives a location new versions in the transaction of each write that changes its tags, posts, links or
statistics (integrations/data_versions.py), so the next view computes afresh. Nothing is ever invalidated
by hand, and reading the versions is one query over the locations.

An agency's answers are summed from every location; after one location's sync, only that location's part
changes. `PARTS` holds such per-location parts apart (`parts_get`, campaigns.py), so that the others are
not computed again.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from integrations.data_versions import TAGS
from integrations.models import Location

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

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


MEMO = Kept(64)  # whole answers: a scorecard, an agency's campaign list
PARTS = Kept(8192)  # per-location parts of agency-wide answers (campaigns, rankings), a few per location


def memo_clear() -> None:
    """Forget everything kept (benchmarks time the first view after a sync with it)."""
    MEMO.clear()
    PARTS.clear()


_quiet = threading.Lock()
_building = 0  # threads inside built_quietly
_collector_was_on = True


FREEZE_FROM = 50_000  # objects a build leaves behind: fewer are left to the collector


@contextmanager
def built_quietly() -> Iterator[None]:
    """Build an answer to keep without Python's cyclic garbage collector, and freeze a big one once built.

    An agency's campaigns are ~800,000 small objects, none in a reference cycle (refcounts free them when
    they are no longer kept). While they were built, every few thousand allocations made the collector scan
    the young ones, and every few hundred thousand the whole heap: half of the CPU of the list's first view
    (docs/performance.md). Once kept, the same full scans, set off by any later view, cost the process
    0.3-1 s every few dozen views. So the collector is off while building, and after a build that left more
    than FREEZE_FROM objects `gc.freeze()` moves everything alive into the permanent generation, which the
    collector never scans (an O(1) move). The price: a reference cycle that had already become garbage at that
    moment is never freed; this happens only when an agency-wide answer is built whole (a new process, or
    most locations synced). Nested and concurrent builds share one switch."""
    global _building, _collector_was_on
    with _quiet:
        if _building == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _building += 1
    try:
        yield
    finally:
        with _quiet:
            _building -= 1
            if _building == 0:
                if gc.get_count()[0] > FREEZE_FROM:  # with the collector off: what was made and is still alive
                    gc.freeze()
                if _collector_was_on:
                    gc.enable()


def data_versions(locations: Iterable[Location], field: str = TAGS) -> dict[int, int | None]:
    """{location pk: its version of `field` (TAGS: what tag performance and campaigns are computed from;
    STATISTICS: the statistics charts and rankings)}, in one query whatever the number of locations (the
    stored row's, not the instance's: an instance may have been read before a sync). None for a location
    deleted since."""
    pks = [loc.pk for loc in locations]
    stored = dict(Location.objects.filter(pk__in=pks).values_list("pk", field).order_by())
    return {pk: stored.get(pk) for pk in pks}


def data_version(locations: Iterable[Location], field: str = TAGS) -> tuple:
    """The versions of all these locations, as one key."""
    return tuple(sorted(data_versions(locations, field).items()))


def memo_get(key: tuple, locations: list[Location], compute: Callable[[], T], field: str = TAGS) -> T:
    """compute(), or what it answered for the same key while the locations' data versions of `field` stay
    the same. The answer is shared: callers must not change it."""
    key = (*key, field, data_version(locations, field))
    found = MEMO.get(key)
    if found is None:
        found = compute()
        MEMO.put(key, found)
    return found


def parts_get(key: tuple, locations: list[Location], compute: Callable[[list[Location]], dict[int, T]],
              field: str = TAGS, versions: dict[int, int | None] | None = None) -> dict[int, T]:
    """{location pk: its part} for every location, in the locations' order: those kept for the same key and
    data version of `field`, and compute(the others) for the rest (a location it leaves out of its answer has
    None as its part). `versions`: the locations' `data_versions` when the caller has read them already. The
    parts are shared (a kept part is the very object kept): callers must not change them."""
    versions = data_versions(locations, field) if versions is None else versions
    found: dict[int, T] = {}
    missing = []
    for loc in locations:
        part = PARTS.get((*key, field, loc.pk, versions[loc.pk]))
        if part is None:
            missing.append(loc)
        else:
            found[loc.pk] = part[0]
    if missing:
        computed = compute(missing)
        for loc in missing:
            found[loc.pk] = computed.get(loc.pk)
            PARTS.put((*key, field, loc.pk, versions[loc.pk]), (found[loc.pk],))  # a 1-tuple: None is a part too
        found = {loc.pk: found[loc.pk] for loc in locations}
    return found
