"""How much memory a worker process with hundreds of threads keeps.

glibc's malloc gives threads arenas of their own (up to 8 per core) and keeps what they freed in each: a
sync worker's ~300 threads (32 units and their lanes) left tens of MB free but held, in every arena. Two
arenas hold the same work (the GIL lets one thread allocate at a time anyway) with a fraction of that.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's malloc.h


def malloc_arenas_limit(count: int) -> bool:
    """Allow at most `count` malloc arenas in this process (its forked children inherit it); 0 leaves
    glibc's default. False where there is no glibc (musl, macOS): nothing to do there."""
    if count < 1:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None or not getattr(libc, "gnu_get_libc_version", None):
        return False
    done = bool(mallopt(M_ARENA_MAX, count))
    if not done:
        log.warning("could not limit malloc arenas to %s", count)
    return done
