"""Tag performance's figures kept per process while the data they are computed from stays the same.

Summing a year of a big location's tag links takes SQLite 50-100 ms (bench/performance.py); the same page,
re-sorted, filtered by name or paged, asks for the same sums. `memo_get` keeps the last results, keyed by what
was asked and by `data_version`: any write of the posts sync (a post, its insights, its tag links) or of the
tags sync changes the version, so the next view computes afresh. Nothing is ever invalidated by hand.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Count, Max

from integrations.models import Location, Post, Tag, TagPost

T = TypeVar("T")
_MEMO: OrderedDict[tuple, Any] = OrderedDict()
_MEMO_SIZE = 64
_LOCK = threading.Lock()


def memo_clear() -> None:
    """Forget everything kept (benchmarks time the first view after a sync with it)."""
    with _LOCK:
        _MEMO.clear()


def data_version(locations: list[Location]) -> tuple:
    """What tag performance over these locations is computed from, in three cheap aggregates over indexes:
    tag links change ids whenever the posts sync rewrites them (TagPost.COPIED changed); posts their count
    when created or deleted and their newest `last_seen_at` whenever the sync changes one (an untagged post's
    insights move the baselines); tags their count or `updated_at` when created, renamed or removed."""
    links = TagPost.objects.filter(location__in=locations).aggregate(n=Count("pk"), top=Max("pk"))
    posts = Post.objects.filter(location__in=locations).aggregate(n=Count("pk"), seen=Max("last_seen_at"))
    tags = Tag.objects.filter(location__in=locations).aggregate(n=Count("pk"), top=Max("pk"),
                                                                changed=Max("updated_at"), seen=Max("last_seen_at"))
    return (*links.values(), *posts.values(), *tags.values())


def memo_get(key: tuple, locations: list[Location], compute: Callable[[], T], *, wider: tuple | None = None,
             narrow: Callable[[Any], T] | None = None) -> T:
    """compute(), or what it answered for the same key while the locations' data version stays the same.
    The answer is shared: callers must not change it. When an answer is kept for `wider` (a key whose answer
    holds this one's, such as every campaign for one campaign), `narrow(that answer)` is returned instead."""
    version = data_version(locations)
    key = (*key, version)
    with _LOCK:
        if wider is not None and narrow is not None and (*wider, version) in _MEMO:
            return narrow(_MEMO[(*wider, version)])
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    found = compute()
    with _LOCK:
        _MEMO[key] = found
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return found
