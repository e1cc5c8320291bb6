"""A worker's malloc arenas are limited (integrations/process_memory.py), where glibc is there to ask."""

from __future__ import annotations

import ctypes
import ctypes.util

from integrations import process_memory


def test_glibc_takes_the_limit_and_zero_leaves_its_default():
    assert process_memory.malloc_arenas_limit(2) is True  # this machine's Python runs on glibc
    assert process_memory.malloc_arenas_limit(0) is False


def test_without_glibc_nothing_is_done(monkeypatch):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert process_memory.malloc_arenas_limit(2) is False


def test_a_refusal_is_reported_not_raised(monkeypatch, caplog):
    class Refusing:
        gnu_get_libc_version = object()

        @staticmethod
        def mallopt(option, value):
            assert option == process_memory.M_ARENA_MAX
            return 0

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Refusing())
    assert process_memory.malloc_arenas_limit(2) is False
    assert "could not limit malloc arenas" in caplog.text

