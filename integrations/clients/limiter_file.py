"""The rate limiter's rings in files of their own, for the embedded default: every process on this machine
(the web, a qcluster's workers) shares them through the page cache.

On SQLite the database ring (limiter_db.py) made every request a write transaction on the database file: it
queued behind the mirror's transactions for the one write lock (in SQLite's busy handler, up to tens of ms),
and a worker's lanes queued behind that claim for the process's one lane connection. A ring here is a
small file per bucket, `limit` slot times and then the want time (the same columns as the database's rows),
mapped into memory; a claim holds the file's flock() for the few microseconds of reading and writing them,
and never meets the database. The semantics are DatabaseRateLimiter's, statement for statement (the least
recently used free slot, stamped with the allowance; settle moves it; a 429 pushes every free slot); the
daily counts stay in the database, written every few seconds per bucket.

Exact across the processes of one machine: every read and write of a ring happens under its flock, which the
kernel releases when a process dies, however it dies; a slot is one aligned 8-byte store, so a process killed
mid-claim leaves the slot either claimed or not, never torn. Not across machines: a SQLite database is one
machine's anyway (PostgreSQL without Redis keeps the database ring; with Redis, Redis). Linux and macOS
(flock, mmap).
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integrations.clients.limiter_db import DatabaseRateLimiter
from integrations.highlevel.ratelimit import UPCOMING

SLOT = struct.Struct("<d")
OPEN_RINGS = 512  # rings kept mapped per process (a file descriptor and a page each); older ones are closed


class _Ring:
    """One bucket's file, mapped: `limit` slot times (epoch seconds, 0: never used), then the want time."""

    def __init__(self, path: Path, limit: int) -> None:
        self.lock = threading.Lock()  # the flock is the process's: threads of one process take turns here
        self.closed = False
        self.limit = limit
        self.times = struct.Struct(f"<{limit}d")
        size = (limit + 1) * SLOT.size
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                if os.fstat(self.fd).st_size < size:  # new, or made for a smaller limit: the rest is free
                    os.ftruncate(self.fd, size)
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.map = mmap.mmap(self.fd, size)
        except BaseException:
            os.close(self.fd)
            raise

    def close(self) -> None:
        self.closed = True
        self.map.close()
        os.close(self.fd)

    @contextmanager
    def held(self) -> Iterator[None]:
        """This ring to ourselves, across threads and processes (the caller holds `lock`)."""
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def slots(self) -> tuple[float, ...]:
        return self.times.unpack_from(self.map, 0)

    def set_slot(self, slot: int, used_at: float) -> None:
        SLOT.pack_into(self.map, slot * SLOT.size, used_at)

    @property
    def want(self) -> float:
        return SLOT.unpack_from(self.map, self.limit * SLOT.size)[0]

    @want.setter
    def want(self, until: float) -> None:
        SLOT.pack_into(self.map, self.limit * SLOT.size, until)


class FileRateLimiter(DatabaseRateLimiter):
    """DatabaseRateLimiter with its rings in `directory` (created if missing): one file per bucket."""

    def __init__(self, *, directory: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._rings: OrderedDict[str, _Ring] = OrderedDict()
        self._rings_lock = threading.Lock()
        self._pid = os.getpid()

    def _path(self, key: str) -> Path:
        # Keys hold ids from HighLevel; a digest keeps the name a plain file name whatever they hold.
        return self.directory / f"{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}.ring"

    def _open(self, key: str) -> _Ring:
        with self._rings_lock:
            if self._pid != os.getpid():
                # A forked child: the parent's descriptors share its flocks, and its thread locks may be
                # held by threads that the child does not have. Map the files again, and close the copies
                # (without their thread locks, which nobody here holds or will): closing a copy releases no
                # flock of the parent's, which still has the file open.
                for inherited in self._rings.values():
                    inherited.close()
                self._rings, self._pid = OrderedDict(), os.getpid()
            ring = self._rings.get(key)
            if ring is not None:
                self._rings.move_to_end(key)
                return ring
            ring = self._rings[key] = _Ring(self._path(key), self.limit)
            evicted = self._rings.popitem(last=False)[1] if len(self._rings) > OPEN_RINGS else None
        if evicted is not None:
            with evicted.lock:
                evicted.close()
        return ring

    def _with_ring(self, key: str, change: Callable[[_Ring], Any]) -> Any:
        while True:
            ring = self._open(key)
            with ring.lock:
                if ring.closed:  # evicted between the lookup and the lock: open it again
                    continue
                with ring.held():
                    return change(ring)

    def _try_claim(self, key: str, now: float, *, yielding: bool = False) -> tuple[bool, float, Sequence[float]]:
        cutoff = now - self.window
        stamp = now + self.lengths.allowance

        def claim(ring: _Ring) -> tuple[bool, float, Sequence[float]]:
            if yielding and (want := ring.want) > now:  # an ordinary request waits: yield to it
                return False, want - now, ()
            slots = ring.slots()
            oldest = min(slots)
            if oldest <= cutoff:
                ring.set_slot(slots.index(oldest), stamp)  # the least recently used, the lowest slot on a tie
                return True, stamp, ()
            upcoming = sorted(slots)[:UPCOMING]
            return (False, max(0.001, upcoming[0] + self.window - now),
                    [used_at + self.window - now for used_at in upcoming[1:]])

        answer = self._with_ring(key, claim)
        if answer[0]:
            self._claimed(stamp, now)
        return answer

    def _want(self, key: str, until: float) -> None:
        def want(ring: _Ring) -> None:
            if not until:
                ring.want = 0.0
            elif ring.want < until:
                ring.want = until

        self._with_ring(key, want)

    def _set_where(self, key: str, matches: Callable[[float], bool], used_at: float) -> None:
        """Every slot whose time `matches` counts as used at `used_at` (an UPDATE ... WHERE of the database's)."""

        def update(ring: _Ring) -> None:
            for slot, value in enumerate(ring.slots()):
                if matches(value):
                    ring.set_slot(slot, used_at)

        self._with_ring(key, update)

    def _move_claim(self, key: str, claimed_at: float, used_at: float) -> None:
        self._set_where(key, lambda value: value == claimed_at, used_at)  # MOVE_SQL's rule

    def _block_until(self, key: str, until: float) -> None:  # PUSH_SQL's rule: no slot frees before `until`
        self._set_where(key, lambda value: value <= until - self.window, until - self.window)

    def _fill_free_slots(self, key: str, now: float) -> None:  # PUSH_SQL's rule: every free slot used now
        self._set_where(key, lambda value: value <= now - self.window, now)

    def close(self) -> None:
        """Unmap every ring of this process (tests; they map again on use)."""
        with self._rings_lock:
            rings, self._rings = list(self._rings.values()), OrderedDict()
        for ring in rings:
            with ring.lock:
                if not ring.closed:
                    ring.close()
