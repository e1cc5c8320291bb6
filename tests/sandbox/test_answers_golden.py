"""The sandbox answers byte for byte as it did before its answers were made cheap (docs/performance.md, "The
sandbox's CPU per request"): a fixed script of API and control requests, run in process at a frozen clock,
hashed answer by answer against golden_answers.json, which the sandbox wrote before that work.

What varies by design is masked: the trace id (header and statistics' `traceId`) and Retry-After (real
seconds). The script reads every route the sync uses, under both contracts, with errors, faults and a low rate
limit, then changes the data through the control API and reads again, so an answer kept from before a change
would show here. To rewrite the file after a deliberate change of an answer:
`.venv/bin/python -m tests.sandbox.test_answers_golden --write`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from pathlib import Path

from sandbox import control
from sandbox.app import make_app
from sandbox.config import SandboxConfig
from sandbox.state import Sandbox, parse_iso

GOLDEN = Path(__file__).with_name("golden_answers.json")
NOW = "2026-03-15T12:00:00.000Z"
CONFIG = SandboxConfig(seed=3, agencies=1, locations=3, tags=260, days=60, accounts_per_location=(3, 6),
                       burst_limit=400, burst_window_ms=3_600_000, now=NOW)
_TRACE = re.compile(rb'"traceId":"[0-9a-f-]{36}"')


class _Script:
    def __init__(self):
        self.sb = Sandbox(CONFIG)
        self.sb.clock.freeze(True)  # insights and `today` must not move while the script runs
        self.sb.clock.set(parse_iso(NOW))
        self.app = make_app(self.sb)
        self.answers: dict[str, str] = {}

    def call(self, label: str, method: str, path: str, *, query: str = "", body=None, token: str | None = None,
             version: str | None = "v3", raw: bytes | None = None) -> dict | list | None:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1",
                   "CONTENT_TYPE": "application/json" if data else "text/plain", "HTTP_HOST": "sandbox.test:8765",
                   "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http"}
        if data:
            environ["CONTENT_LENGTH"] = str(len(data))
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if version:
            environ["HTTP_VERSION"] = version
        seen = {}

        def start_response(status, headers):
            seen["status"], seen["headers"] = status, headers

        answer = b"".join(self.app(environ, start_response))
        headers = [(k, "<masked>" if k in ("X-Trace-Id", "Retry-After") else v) for k, v in seen["headers"]]
        masked = _TRACE.sub(b'"traceId":"<masked>"', answer)
        record = json.dumps([seen["status"], headers], sort_keys=True).encode() + b"\n" + masked
        self.answers[label] = hashlib.sha256(record).hexdigest()
        try:
            return json.loads(answer)
        except ValueError:
            return None


def _listed(answer, key: str) -> list:
    """answer.results[key], or nothing when a fault mangled the answer."""
    try:
        return list(answer["results"][key])
    except (KeyError, TypeError):
        return []


def run_script() -> dict[str, str]:
    control._ids.seed(7)  # ids of tags and posts added through the control API: fixed for the comparison
    s = _Script()
    state = s.call("state", "GET", "/_sandbox/state", version=None)
    del s.answers["state"]  # it carries an RSA key made anew in every process
    first, second = state["locations"][0], state["locations"][1]
    loc, pit = first["id"], first["pit"]
    social = f"/social-media-posting/{loc}"
    stats = "/social-media-posting/statistics"

    def reads(tag: str) -> None:
        """Every route the sync reads, as the sync asks it and otherwise."""
        accounts = _listed(s.call(f"{tag} accounts", "GET", f"{social}/accounts", token=pit), "accounts")
        accounts = accounts or [{"id": "gone", "profileId": "gone"}]  # under a fault: ask for what is not there
        profiles = [a["profileId"] for a in accounts]
        s.call(f"{tag} location", "GET", f"/locations/{loc}", token=pit, version="2021-07-28")
        ids = []
        for skip in range(0, 300, 100):
            page = s.call(f"{tag} tags {skip}", "GET", f"{social}/tags", query=f"skip={skip}&limit=100", token=pit)
            ids += [t["_id"] for t in _listed(page, "tags")]
        ids = ids or ["gone", "gone too", "still gone", "not there"]
        s.call(f"{tag} tags default", "GET", f"{social}/tags", token=pit, version="2021-07-28")
        s.call(f"{tag} tags clamped", "GET", f"{social}/tags", query="skip=7&limit=500", token=pit)
        s.call(f"{tag} tags search", "GET", f"{social}/tags", query="searchText=%20SALE%20&limit=20", token=pit)
        s.call(f"{tag} tags bad skip", "GET", f"{social}/tags", query="skip=x", token=pit)
        for n in range(0, len(ids), 50):
            s.call(f"{tag} details {n}", "POST", f"{social}/tags/details", body={"tagIds": ids[n:n + 50]}, token=pit)
        s.call(f"{tag} details odd", "POST", f"{social}/tags/details",
               body={"tagIds": [ids[3], "nope", ids[3], ids[1]]}, token=pit)
        s.call(f"{tag} details bad", "POST", f"{social}/tags/details", body={"tagIds": "x"}, token=pit)
        window = {"fromDate": "2026-01-01T00:00:00.000Z", "toDate": "2026-04-15T23:59:59.999Z"}
        for version in ("v3", "2021-07-28"):
            for skip in range(0, 400, 100):
                s.call(f"{tag} posts {version} {skip}", "POST", f"{social}/posts/list", token=pit, version=version,
                       body={**window, "includeUsers": "false", "skip": str(skip), "limit": "100"})
        s.call(f"{tag} posts users", "POST", f"{social}/posts/list", token=pit,
               body={**window, "includeUsers": "true", "type": "published", "limit": "30"})
        s.call(f"{tag} posts filtered", "POST", f"{social}/posts/list", token=pit,
               body={**window, "type": "recent", "accounts": accounts[0]["id"], "postType": "reel"})
        s.call(f"{tag} posts scheduled", "POST", f"{social}/posts/list", token=pit,
               body={**window, "type": "scheduled", "skip": "2", "limit": "5"})
        s.call(f"{tag} posts bad", "POST", f"{social}/posts/list", token=pit, body={"fromDate": "x", "type": "nope"})
        ranges = {"currentRange": {"startDate": "2026-01-14T00:00:00.000Z", "endDate": "2026-03-14T23:59:59.999Z"},
                  "prevRange": {"startDate": "2025-11-15T00:00:00.000Z", "endDate": "2026-01-13T23:59:59.999Z"}}
        s.call(f"{tag} stats ranges all", "POST", stats, query=f"locationId={loc}", token=pit,
               body={"profileIds": profiles, **ranges})
        for profile in profiles:
            s.call(f"{tag} stats ranges {profile}", "POST", stats, query=f"locationId={loc}", token=pit,
                   body={"profileIds": [profile], **ranges})
        for day in ("2026-02-27", "2026-03-13", "2026-03-14", "2026-03-15", "2026-03-20"):
            one = {"currentRange": {"startDate": f"{day}T00:00:00.000Z", "endDate": f"{day}T23:59:59.999Z"}}
            s.call(f"{tag} stats day {day} all", "POST", stats, query=f"locationId={loc}", token=pit,
                   body={"profileIds": profiles, **one})
            for profile in profiles:
                s.call(f"{tag} stats day {day} {profile}", "POST", stats, query=f"locationId={loc}", token=pit,
                       body={"profileIds": [profile], **one})
        s.call(f"{tag} stats future", "POST", stats, query=f"locationId={loc}", token=pit, body={
            "profileIds": [*profiles, "123"], "platforms": ["facebook", "instagram", "linkedin"],
            "currentRange": {"startDate": "2026-03-10T00:00:00.000Z", "endDate": "2026-03-24T00:00:00.000Z"}})
        s.call(f"{tag} stats legacy", "POST", stats, query=f"locationId={loc}", token=pit, version="2021-07-28",
               body={"profileIds": profiles, **ranges})
        s.call(f"{tag} stats old", "POST", stats, query=f"locationId={loc}", token=pit, body={
            "profileIds": profiles, "currentRange": {"startDate": "2025-12-01", "endDate": "2025-12-31"}})

    reads("before")
    for label, query, body in (
        ("no location", "", {"profileIds": ["1"]}),
        ("no profiles", f"locationId={loc}", {"profileIds": []}),
        ("many profiles", f"locationId={loc}", {"profileIds": [str(n) for n in range(101)]}),
        ("bad platform", f"locationId={loc}", {"profileIds": ["1"], "platforms": ["myspace"]}),
        ("prev alone", f"locationId={loc}", {"profileIds": ["1"], "prevRange": {"startDate": "2026-01-01",
                                                                               "endDate": "2026-01-02"}}),
        ("backwards", f"locationId={loc}", {"profileIds": ["1"], "currentRange": {"startDate": "2026-01-02",
                                                                                 "endDate": "2026-01-01"}}),
        ("too long", f"locationId={loc}", {"profileIds": ["1"], "currentRange": {"startDate": "2024-01-01",
                                                                                "endDate": "2026-01-01"}}),
        ("other location", f"locationId={second['id']}", {"profileIds": ["1"]}),
    ):
        s.call(f"stats error {label}", "POST", stats, query=query, body=body, token=pit)
    s.call("stats bad json", "POST", stats, query=f"locationId={loc}", raw=b"{nope", token=pit)
    s.call("no token", "GET", f"{social}/tags")
    s.call("no version", "GET", f"{social}/tags", token=pit, version=None)
    s.call("unknown route", "GET", "/social-media-posting/nothing/here/at/all", token=pit)
    s.call("other location's tags", "GET", f"/social-media-posting/{second['id']}/tags", token=pit)

    # Changes through the control API, then everything again: nothing may answer from before a change.
    tags = s.call("truth", "GET", f"/_sandbox/locations/{loc}/tags", version=None)["tags"]
    s.call("rename", "PATCH", f"/_sandbox/locations/{loc}/tags/{tags[5]['_id']}", body={"tag": "Renamed"})
    s.call("soft delete", "DELETE", f"/_sandbox/locations/{loc}/tags/{tags[6]['_id']}")
    s.call("hard delete", "DELETE", f"/_sandbox/locations/{loc}/tags/{tags[7]['_id']}", query="hard=1")
    s.call("add", "POST", f"/_sandbox/locations/{loc}/tags", body={"tag": "Brand new"})
    accounts = s.call("accounts again", "GET", f"{social}/accounts", token=pit)["results"]["accounts"]
    s.call("expire", "POST", f"/_sandbox/locations/{loc}/accounts/{accounts[0]['id']}", body={"isExpired": True})
    s.call("plant", "POST", f"/_sandbox/locations/{loc}/posts", body={"posts": [
        {"id": "p1", "platform": accounts[0]["platform"], "status": "published",
         "publishedAt": "2026-03-14T09:00:00.000Z", "tags": [tags[0]["_id"]], "insights": {"like": 3}}]})
    s.call("fail", "POST", f"/_sandbox/locations/{loc}/posts/failed", body={"error": "Nope"})
    s.call("empty schedule", "POST", f"/_sandbox/locations/{loc}/schedule/empty")
    s.call("drop", "POST", f"/_sandbox/locations/{loc}/statistics/drops",
           body={"metric": "engagement", "factor": 0.5, "from": "2026-03-01"})
    s.call("drop one platform", "POST", f"/_sandbox/locations/{loc}/statistics/drops",
           body={"metric": "impressions", "factor": 0.25, "platform": accounts[1]["platform"]})
    reads("after")
    s.call("clock", "POST", "/_sandbox/clock", body={"advance_seconds": 86400 * 2})
    reads("later")

    # Faults and the rate limit apply to every answer, however it was made.
    s.call("fault truncated", "POST", "/_sandbox/faults", body={"truncated_rate": 1.0, "path": "statistics"})
    reads("truncated")
    s.call("faults cleared", "DELETE", "/_sandbox/faults")
    s.call("fault malformed", "POST", "/_sandbox/faults", body={"malformed_rate": 1.0, "seed": 4, "path": "tags"})
    reads("malformed")
    s.call("faults cleared again", "DELETE", "/_sandbox/faults")
    s.call("fault burst", "POST", "/_sandbox/faults", body={"error_burst": 3, "rate_limit_storm": 2})
    reads("burst")
    s.call("v3 refused", "POST", "/_sandbox/versions", body={"refuse_v3": True})
    reads("refused")
    s.call("v3 served", "POST", "/_sandbox/versions", body={"refuse_v3": False})
    reads("limited")  # past the burst limit of 400 by now: 429s with their headers
    s.call("stats", "GET", "/_sandbox/stats", version=None)
    return s.answers


def test_every_answer_is_what_the_sandbox_answered_before():
    golden = json.loads(GOLDEN.read_text())
    answers = run_script()
    assert list(answers) == list(golden)
    changed = [label for label, digest in answers.items() if golden[label] != digest]
    assert changed == []


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.write_text(json.dumps(run_script(), indent=0) + "\n")
