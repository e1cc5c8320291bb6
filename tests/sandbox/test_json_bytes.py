"""json_bytes writes json.dumps' bytes (by orjson where they agree), and plain_numbers tells which payloads
orjson may write."""

from __future__ import annotations

import json
import math
import random

import pytest

from sandbox.http import json_bytes, plain_numbers


def _json(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def test_plain_payloads_are_written_as_json_writes_them():
    rng = random.Random(5)
    checked = 0
    for _ in range(20_000):
        value = rng.random() * 10 ** rng.randint(-8, 20) * rng.choice((1, -1))
        payload = {"v": [value, round(value, 2), {"n": int(value) if abs(value) < 2**63 else 1}], "id": "6a5e8f,1e5"}
        if plain_numbers(payload):
            checked += 1
            assert json_bytes(payload) == _json(payload), payload
    assert checked > 5_000


@pytest.mark.parametrize("payload", [
    {"name": "caf\u00e9 \u2028 \U0001f600"},  # json escapes what is not ASCII
    {"name": "del \x7f and \x01 \n \t \" \\"},
    {"big": 2**70, "small": -(2**63)},  # past orjson's 64 bits
    {1: "a key that is not a string"},
    {"nested": [[], {}, None, True, False, 0.0, -0.0, 12.5, 100.0]},
])
def test_what_orjson_writes_otherwise_is_written_by_json(payload):
    assert json_bytes(payload) == _json(payload)


@pytest.mark.parametrize("number", [1e16, -2.5e17, 1e-05, 3e-300, math.inf, -math.inf, math.nan])
def test_numbers_json_writes_with_an_exponent_or_not_at_all_are_not_plain(number):
    assert not plain_numbers({"a": [1, {"b": number}]})
    assert plain_numbers({"a": [1, {"b": 0.5, "c": 12345678901234.5, "d": 1e-4, "e": 0.0}]})
