"""A unit's independent requests, a few at a time ("lanes").

One request at a time reaches HighLevel's limit only while answers come back within a tenth of a second:
at 100 requests per 10 s and a 300 ms answer it would use a third of it, and a location's first statistics
fill (a request per account and day) would take three times as long. So a refresh hands independent
requests (one-day statistics, tag-detail batches) to `in_lanes`, which keeps up to `SYNC_REQUEST_LANES` of
them in flight; the shared rate limiter still decides when each may leave.

Lanes fetch; the caller stores what they fetched, in its own thread and order. So the mirror's writes
stay on the unit's one thread: a lane touches the database only through the client (the limiter's slots on
PostgreSQL without Redis, its daily counts, a token read every few seconds), on SQLite through the process's
two shared connections (reads, writes), and it gives or closes any connection of its own after each item
(integrations/db.py), so lanes never hold PostgreSQL's connections nor a SQLite connection each. Under pytest's
transactional `db` fixture another connection cannot see the test's rows, so the test settings use one
lane (the same code, in the caller's thread) unless a test switches threads on (SYNC_THREADS).
"""

from __future__ import annotations

import contextvars
import itertools
import math
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.conf import settings
from django.db import connections

from integrations.db import connections_give_back, lane_thread

T = TypeVar("T")
R = TypeVar("R")
READ_AHEAD = 2  # x lanes: fetched answers waiting for the caller to store them, at most


def lanes_setting() -> int:
    return max(1, settings.SYNC_REQUEST_LANES)


def in_lanes(fetch: Callable[[T], R], items: Iterable[T], *, lanes: int | None = None) -> Iterator[tuple[T, R]]:
    """(item, `fetch(item)`) for every item, up to `lanes` fetching at once, yielded in the items' order.

    `items` is read lazily, in the caller's thread (it may read the database: a location's due tag-detail
    batches come from a query per batch, not a list of 1,000,000 ids), and at most READ_AHEAD x `lanes`
    items are taken from it beyond those yielded, so at most that many answers wait for the caller, however
    slowly it stores them. The first exception stops handing out items; it is raised where its item would
    have been yielded, after the items before it (handed out earlier, the queue being in order). Leaving
    the loop early also stops the lanes; either way every lane has ended when this generator has.
    """
    source = iter(items)
    wanted = (lanes or lanes_setting()) if settings.SYNC_THREADS else 1
    head = list(itertools.islice(source, wanted))
    count = min(wanted, len(head))  # no more lanes than items
    if count <= 1:
        for item in itertools.chain(head, source):
            yield item, fetch(item)
        return
    source = itertools.chain(head, source)
    pending: queue.SimpleQueue = queue.SimpleQueue()  # (index, item), then one None per lane: no more
    results: dict[int, tuple[bool, object]] = {}
    ready = threading.Condition()
    # The index the caller waits for: a lane wakes it for that one only, not for every answer that comes in
    # ahead of it (each a futile wake-up: a context switch and a turn of the GIL).
    awaited = [-1]
    failed = [math.inf]  # the first item whose fetch raised: none after it is fetched any more
    stop = threading.Event()  # the caller left: fetch nothing more

    def lane() -> None:
        try:
            with lane_thread():
                lane_loop()
        finally:
            connections.close_all()

    def lane_loop() -> None:
        while (handed := pending.get()) is not None:
            index, item = handed
            if stop.is_set() or index > failed[0]:
                continue
            try:
                outcome: tuple[bool, object] = (True, fetch(item))
            except BaseException as exc:  # handed to the consumer, which raises it
                outcome = (False, exc)
                with ready:
                    failed[0] = min(failed[0], index)
            finally:
                connections_give_back(pooled_only=False)
            with ready:
                results[index] = outcome
                if index == awaited[0]:
                    ready.notify()

    # Each lane in a copy of the caller's context, so its log lines carry the run id (logcontext.py).
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(lane,), name=f"sync-lane-{n}",
                                daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    waiting: dict[int, T] = {}  # handed out, not yet yielded: the next one and READ_AHEAD x count beyond it
    ended = False
    try:
        for index in itertools.count():
            while not ended and len(waiting) <= READ_AHEAD * count and failed[0] == math.inf:
                item = next(source, _END)
                if item is _END:
                    ended = True
                    break
                waiting[index + len(waiting)] = item  # type: ignore[assignment]
                pending.put((index + len(waiting) - 1, item))
            if index not in waiting:
                return
            with ready:
                if index not in results:
                    connections_give_back()  # the caller's, while it waits for the lanes
                    awaited[0] = index
                    ready.wait_for(lambda index=index: index in results)
                ok, value = results.pop(index)
            item = waiting.pop(index)
            if not ok:
                raise value  # type: ignore[misc]
            yield item, value  # type: ignore[misc]
    finally:
        stop.set()
        for _ in threads:
            pending.put(None)
        for thread in threads:
            thread.join()


_END = object()
