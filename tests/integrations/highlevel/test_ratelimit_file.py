"""The file rings (integrations/clients/limiter_file.py): picked on SQLite when a directory is set, shared by
processes through their files, and safe when a process dies holding one. The limiter's semantics are tested
with every backend in test_ratelimit.py, and across two real processes in test_ratelimit_lines.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from integrations.clients import limiter_file
from integrations.clients.limiter_db import DatabaseRateLimiter
from integrations.clients.limiter_file import FileRateLimiter
from integrations.clients.limiters import get_rate_limiter, reset_rate_limiter
from tests.integrations.highlevel.test_ratelimit import START, FakeClock
from tests.support.subprocess_env import ROOT, child_env

pytestmark = pytest.mark.django_db


def limiter_on(directory, clock: FakeClock, **options) -> FileRateLimiter:
    return FileRateLimiter(directory=directory, clock=clock, sleep=clock.sleep, margin=0.0, **options)


def test_on_sqlite_a_directory_picks_the_file_rings_and_none_the_database(settings, tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the file rings are SQLite's; PostgreSQL keeps the database ring")
    settings.REDIS_URL = ""
    try:
        settings.RATE_LIMIT_DIRECTORY = str(tmp_path / "rings")
        reset_rate_limiter()
        limiter = get_rate_limiter()
        assert isinstance(limiter, FileRateLimiter) and limiter.directory == tmp_path / "rings"
        settings.RATE_LIMIT_DIRECTORY = ""
        reset_rate_limiter()
        assert type(get_rate_limiter()) is DatabaseRateLimiter
    finally:
        reset_rate_limiter()


def test_two_limiters_on_one_directory_share_each_buckets_ring_and_nothing_else(tmp_path):
    clock = FakeClock()
    first, second = limiter_on(tmp_path, clock, limit=3), limiter_on(tmp_path, clock, limit=3)
    for limiter in (first, second, first):
        assert limiter.acquire("app:a") == START
    # the ring of app:a is full for both; app:b has a ring of its own
    assert second._try_claim("app:a", START)[0] is False
    assert second.acquire("app:b") == START
    assert len(list(tmp_path.glob("*.ring"))) == 2
    # a refused claim says when the ring's slots free, as the database's does
    claimed, wait, later = first._try_claim("app:a", START + 1.0)
    assert (claimed, wait, list(later)) == (False, pytest.approx(9.0), [pytest.approx(9.0)] * 2)


def test_a_closed_ring_reopens_with_its_times(tmp_path, monkeypatch):
    monkeypatch.setattr(limiter_file, "OPEN_RINGS", 2)
    clock = FakeClock()
    limiter = limiter_on(tmp_path, clock, limit=2)
    limiter.acquire("app:a")
    limiter.acquire("app:a")
    limiter.acquire("app:b")
    limiter.acquire("app:c")  # app:a's ring, the least recently used, is unmapped
    assert list(limiter._rings) == ["app:b", "app:c"]
    assert limiter._try_claim("app:a", START + 1.0)[0] is False  # its two claims were kept in its file
    assert limiter._try_claim("app:a", START + 10.0)[0] is True


def test_a_ring_made_for_a_smaller_limit_keeps_its_claims_and_frees_the_new_slots(tmp_path):
    clock = FakeClock()
    small = limiter_on(tmp_path, clock, limit=2)
    small.acquire("app:a")
    small.acquire("app:a")
    small.close()
    larger = limiter_on(tmp_path, clock, limit=4)
    assert [larger._try_claim("app:a", START)[0] for _ in range(3)] == [True, True, False]
    assert sorted(larger._open("app:a").slots()) == [START] * 4


def test_a_forked_child_maps_the_rings_again_and_closes_its_copies_of_the_parents(tmp_path):
    clock = FakeClock()
    limiter = limiter_on(tmp_path, clock, limit=2)
    parents = limiter._open("app:a")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own mapping, and the claims the parent made before the fork
        try:
            ring = limiter._open("app:a")
            claimed = limiter._try_claim("app:a", START)[0]
            # The parent's ring, inherited: unmapped and its descriptor closed here (a number the child's own
            # ring may then reuse); the parent's own stay open.
            if ring.fd != parents.fd:
                try:
                    os.fstat(parents.fd)
                except OSError:
                    pass
                else:
                    claimed = False
            closed = parents.closed and parents.map.closed
            os.write(write, b"ok" if ring is not parents and claimed and closed else b"no")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 2) == b"ok"
    os.waitpid(pid, 0)
    os.fstat(parents.fd)  # still the parent's
    assert not parents.map.closed
    assert limiter._try_claim("app:a", START)[0] is True  # the child's claim and ours: the ring is full now
    assert limiter._try_claim("app:a", START)[0] is False


HOLDER = """
import sys
import django
django.setup()
from integrations.clients.limiter_file import FileRateLimiter
limiter = FileRateLimiter(directory=sys.argv[1], limit=2, margin=0.0)
ring = limiter._open("app:a")
ring.lock.acquire()
held = ring.held()
held.__enter__()  # kept referenced: a dropped context manager would unlock as it is collected
print("holding", flush=True)
sys.stdin.readline()
"""


def test_a_process_killed_while_holding_a_ring_leaves_it_usable(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, env=child_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        limiter = limiter_on(tmp_path, FakeClock(), limit=2)
        answers: list[bool] = []
        claim = threading.Thread(target=lambda: answers.append(limiter._try_claim("app:a", START)[0]))
        claim.start()
        claim.join(timeout=0.3)
        assert claim.is_alive() and not answers  # it waits for the holder
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        claim.join(timeout=10)
        assert answers == [True]
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
