"""The sandbox served over real HTTP: persistent connections, as HighLevel's API keeps them."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)


def _ask(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
         headers: dict | None = None) -> tuple[int, tuple]:
    """(status, the client's own address for the exchange): the same address is the same connection."""
    conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    address = conn.sock.getsockname()
    answer = conn.getresponse()
    answer.read()
    return answer.status, address


def test_requests_share_one_kept_connection(sandbox_server):
    conn = _connection(sandbox_server.url)
    seen = set()
    for _ in range(3):
        status, address = _ask(conn, "GET", "/_sandbox/state")
        assert status == 200
        seen.add(address)
    # A POST with a body, then a GET: the body was read whole, so the next request parses cleanly.
    status, address = _ask(conn, "POST", "/social-media-posting/statistics", json.dumps({"profileIds": []}).encode())
    assert status == 401  # no token; answered, and the connection kept
    seen.add(address)
    status, address = _ask(conn, "GET", "/_sandbox/state")
    assert status == 200
    seen.add(address)
    assert len(seen) == 1
    conn.close()


def test_a_client_asking_to_close_gets_a_connection_per_request(sandbox_server):
    conn = _connection(sandbox_server.url)
    seen = {_ask(conn, "GET", "/_sandbox/state", headers={"Connection": "close"})[1] for _ in range(3)}
    assert len(seen) == 3
    conn.close()


def test_a_stopped_sandbox_hangs_up_its_kept_connections():
    server = SandboxServer(SandboxConfig(seed=1, agencies=1, locations=1, tags=5, days=2)).start()
    session = requests.Session()
    url = f"{server.url}/_sandbox/state"
    assert session.get(url, timeout=5).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=5)
    session.close()
