"""Fault injection, one kind at a time, scoped and reproducible."""

from __future__ import annotations

import time

import pytest
import requests

from .helpers import location_pit


def tags(sandbox, location_id, token, **kwargs):
    return sandbox.api("GET", f"/social-media-posting/{location_id}/tags", token, params={"limit": "2"}, **kwargs)


def test_latency_slows_answers(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(latency_ms=150, jitter_ms=50)
    started = time.perf_counter()
    assert tags(sandbox, location_id, pit).status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_an_error_burst_fails_the_next_requests_then_stops(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(error_burst=2, error_status=503)
    statuses = [tags(sandbox, location_id, pit).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sandbox.stats()["faults_injected"] == {"error": 2}


def test_an_error_rate_scoped_by_path_leaves_other_routes_alone(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(error_rate=1.0, error_status=502, path=r"/tags$")
    failed = tags(sandbox, location_id, pit)
    assert failed.status_code == 502
    assert failed.json()["statusCode"] == 502
    assert sandbox.api("GET", f"/social-media-posting/{location_id}/accounts", pit).status_code == 200


def test_faults_scoped_to_a_location_spare_the_others(sandbox):
    first, second = sandbox.state()["locations"][:2]
    sandbox.add_fault(error_rate=1.0, locations=[second["id"]])
    assert tags(sandbox, first["id"], first["pit"]).status_code == 200
    assert tags(sandbox, second["id"], second["pit"]).status_code == 500


def test_a_rate_limit_storm_answers_429_with_retry_after(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(rate_limit_storm=2)
    answers = [tags(sandbox, location_id, pit) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"].isdigit()
    assert answers[0].headers["X-RateLimit-Remaining"] == "0"
    assert sandbox.stats()["rate_limited"] == 2


def test_a_timeout_hangs_then_closes_without_an_answer(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(timeout_burst=1, hang_seconds=0.2)
    started = time.perf_counter()
    with pytest.raises(requests.ConnectionError):
        tags(sandbox, location_id, pit)
    assert time.perf_counter() - started >= 0.2
    assert tags(sandbox, location_id, pit).status_code == 200


def test_a_hanging_request_trips_the_client_timeout(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(timeout_rate=1.0, hang_seconds=1)
    with pytest.raises(requests.Timeout):
        sandbox.http.get(f"{sandbox.url}/social-media-posting/{location_id}/tags",
                         headers={"Authorization": f"Bearer {pit}", "Version": "2021-07-28"}, timeout=0.2)


def test_malformed_bodies_are_valid_json_of_the_wrong_shape(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(malformed_rate=1.0)
    for _ in range(3):
        answer = tags(sandbox, location_id, pit)
        assert answer.status_code == 200
        body = answer.json()
        assert not (isinstance(body, dict) and isinstance((body.get("results") or {}).get("tags"), list))


def test_truncated_bodies_are_cut_mid_json(sandbox):
    location_id, pit = location_pit(sandbox)
    sandbox.add_fault(truncated_rate=1.0)
    answer = tags(sandbox, location_id, pit)
    assert answer.status_code == 200
    assert answer.text.startswith('{"success":true')
    with pytest.raises(ValueError):
        answer.json()


def test_a_seeded_fault_run_is_reproducible(sandbox):
    location_id, pit = location_pit(sandbox)

    def run():
        sandbox.reset()
        sandbox.add_fault(error_rate=0.5, seed=42)
        return [tags(sandbox, location_id, pit).status_code for _ in range(12)]

    first = run()
    assert set(first) == {200, 500}
    assert run() == first


def test_faults_are_listed_removed_and_cleared_by_reset(sandbox):
    rule = sandbox.add_fault(error_rate=0.1, path="tags")
    assert [f["id"] for f in sandbox.faults()] == [rule["id"]]
    removed = sandbox.http.delete(f"{sandbox.url}/_sandbox/faults/{rule['id']}")
    assert removed.json() == {"removed": True}
    sandbox.add_fault(latency_ms=1)
    sandbox.reset()
    assert sandbox.faults() == []
    bad = sandbox.http.post(f"{sandbox.url}/_sandbox/faults", json={"error_status": 404})
    assert bad.status_code == 400
