"""json_bytes writes json.dumps' bytes (by orjson where they agree), and plain_number tells which numbers
orjson may write."""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta

import pytest

from sandbox.http import json_bytes, plain_number


def plain_numbers(value) -> bool:
    if isinstance(value, dict):
        return all(plain_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(plain_numbers(v) for v in value)
    return plain_number(value)


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


def test_statistics_with_huge_numbers_are_written_by_json(sandbox):
    """A planted drop with a huge factor makes changes json writes with an exponent: still json's bytes."""
    location = sandbox.state()["locations"][0]
    today = date.fromisoformat(sandbox.http.get(f"{sandbox.url}/_sandbox/clock").json()["today"])
    first = today - timedelta(days=3)
    sandbox.http.post(f"{sandbox.url}/_sandbox/locations/{location['id']}/statistics/drops",
                      json={"metric": "likes", "factor": 1e18, "from": first.isoformat()}).raise_for_status()
    accounts = sandbox.api("GET", f"/social-media-posting/{location['id']}/accounts",
                           location["pit"]).json()["results"]["accounts"]
    last = today - timedelta(days=1)
    answer = sandbox.api("POST", "/social-media-posting/statistics", location["pit"],
                         params={"locationId": location["id"]}, version="v3", json={
                             "profileIds": [a["profileId"] for a in accounts],
                             "currentRange": {"startDate": first.isoformat(), "endDate": last.isoformat()}})
    assert answer.status_code == 200
    assert b"e+" in answer.content  # json's exponent, where orjson would have written none
    assert answer.content == _json(json.loads(answer.content))
