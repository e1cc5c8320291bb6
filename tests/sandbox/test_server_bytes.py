"""The sandbox's HTTP layer answers the bytes wsgiref answered: the same raw requests, sent over real sockets to
the server (sandbox/server.py) and to a reference that serves every request through the standard library's
WSGIRequestHandler and ServerHandler, as the sandbox did before, give the same byte streams (Date and trace
ids aside), plain requests and odd ones (HTTP/1.0, 0.9, folded headers, Expect, errors) alike."""

from __future__ import annotations

import re
import socket
import threading
from wsgiref.simple_server import make_server

import pytest

from sandbox.app import make_app
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer, _Handler, _ThreadingServer
from sandbox.state import Sandbox, parse_iso

CONFIG = SandboxConfig(seed=2, agencies=1, locations=2, tags=150, days=20, now="2026-03-15T12:00:00.000Z")
_MASKS = (re.compile(rb"Date: [^\r]*\r\n"),
          re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"))  # trace ids


class _Reference(_Handler):
    """The sandbox's handler before it answered plain requests itself: every request through the standard
    library's parse_request and wsgiref's ServerHandler (the path odd requests still take)."""

    def _read_request(self):
        return None


def _frozen(sb: Sandbox) -> Sandbox:
    moment = parse_iso(CONFIG.now)
    sb.clock.now = lambda: moment  # the rate limit's days and the posts' insights stand still
    return sb


@pytest.fixture(scope="module")
def servers():
    """(the sandbox's server, the reference), each on its own sandbox of the same seed."""
    ours = SandboxServer(CONFIG).start()
    _frozen(ours.sandbox)
    reference = make_server("127.0.0.1", 0, make_app(_frozen(Sandbox(CONFIG))), server_class=_ThreadingServer,
                            handler_class=_Reference)
    thread = threading.Thread(target=reference.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield ours, reference.server_address[1]
    ours.stop()
    reference.shutdown()
    reference.server_close()
    reference.close_open_connections()


def _exchange(port: int, raw: bytes) -> bytes:
    """Send the raw bytes and nothing more (a half close), then read until the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    for mask in _MASKS:
        answer = mask.sub(b"<masked>", answer)
    return answer


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"", version: str = "HTTP/1.1") -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return f"{method} {path} {version}\r\n{head}\r\n".encode("latin-1") + body


def _cases(location: str, token: str) -> dict[str, bytes]:
    api = {"Host": "127.0.0.1:8765", "Authorization": f"Bearer {token}", "Version": "v3",
           "Content-Type": "application/json", "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
    stats = b'{"profileIds": ["1", "2"], "currentRange": {"startDate": "2026-03-01", "endDate": "2026-03-02"}}'
    close = {"Connection": "close"}
    return {
        "kept connection": b"".join((
            _request("GET", f"/social-media-posting/{location}/tags?skip=10&limit=5", api),
            _request("GET", f"/social-media-posting/{location}/accounts", api),
            _request("POST", f"/social-media-posting/statistics?locationId={location}", api, stats),
            _request("POST", f"/social-media-posting/{location}/tags/details", api, b'{"tagIds": ["x"]}'),
            _request("POST", f"/social-media-posting/{location}/posts/list", api,
                     b'{"fromDate": "2026-03-01T00:00:00Z", "toDate": "2026-03-20T00:00:00Z", "limit": "3"}'),
            _request("GET", "/social-media-posting/nothing", api),
            _request("GET", f"/social-media-posting/{location}/tags", {"Host": "h"}),
            _request("GET", "/_sandbox/clock", {}),
            _request("GET", f"//social-media-posting/{location}/tags?searchText=a%20b", {**api, **close}),
        )),
        "http/1.0": _request("GET", "/_sandbox/clock", {"Host": "h"}, version="HTTP/1.0"),
        "http/1.0 kept": _request("GET", "/_sandbox/clock", {"Connection": "Keep-Alive"}, version="HTTP/1.0")
        + _request("GET", "/_sandbox/versions", {}, version="HTTP/1.0"),
        "expect": _request("POST", f"/social-media-posting/statistics?locationId={location}",
                           {**api, "Expect": "100-continue", **close}, stats),
        "duplicate and odd headers": _request("GET", f"/social-media-posting/{location}/tags?limit=2", {
            "authorization": f"Bearer {token}", "VERSION": "  v3  ", "X-A": "1", "x-a": "2", "Content-Length": "0",
            "Path-Info": "/nope", "Http-Version": "v3", "Connection": "close"}),
        "folded header": f"GET /social-media-posting/{location}/tags?limit=1 HTTP/1.1\r\nAuthorization: Bearer "
                         f"{token}\r\nVersion: v3\r\nX-Long: one\r\n two\r\nConnection: close\r\n\r\n".encode(),
        "header without colon": b"GET /_sandbox/clock HTTP/1.1\r\nJunk\r\nConnection: close\r\n\r\n",
        "bare lf": b"GET /_sandbox/clock HTTP/1.1\nConnection: close\n\n",
        "percent-encoded path": _request("GET", f"/social-media-posting/{location}/%74ags?limit=1", {**api, **close}),
        "latin-1 header": _request("GET", "/_sandbox/clock", {"X-Name": "caf\xe9", **close}),
        "malformed request line": b"GARBAGE\r\n\r\n",
        "bad version": b"GET / HTTP/x.y\r\n\r\n",
        "http/2": b"GET / HTTP/2.0\r\n\r\n",
        "leading zeros": b"GET /_sandbox/clock HTTP/01.1\r\nConnection: close\r\n\r\n",
        "http/0.9": b"GET /_sandbox/clock\r\n",
        "http/0.9 post": b"POST /_sandbox/clock\r\n",
        "request line too long": b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        "header too long": b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
        "too many headers": b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(101)) + b"\r\n",
        "bad content length": b"POST /_sandbox/clock HTTP/1.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
        "empty line": b"\r\n",
    }


def test_the_bytes_are_wsgirefs(servers, capsys):
    ours, reference_port = servers
    location = next(iter(ours.sandbox.skeleton.locations))
    token = ours.sandbox.pits[location]
    for name, raw in _cases(location, token).items():
        expected = _exchange(reference_port, raw)
        assert _exchange(ours.port, raw) == expected, name
    # wsgiref logs an app's exception (the bad Content-Length) to stderr: both did.
    assert capsys.readouterr().err.count("ValueError: invalid literal for int()") == 2


def test_a_timeout_fault_hangs_up_without_an_answer(servers):
    ours, _ = servers
    rule = ours.sandbox.faults.add({"timeout_burst": 1, "hang_seconds": 0, "path": "clock-nowhere"})
    try:
        assert _exchange(ours.port, _request("GET", "/social-media-posting/x/clock-nowhere", {})) == b""
    finally:
        ours.sandbox.faults.remove(rule.id)


def test_it_still_serves_after_a_client_left_mid_request(servers):
    ours, _ = servers
    with socket.create_connection(("127.0.0.1", ours.port), timeout=5) as sock:
        sock.sendall(b"POST /_sandbox/clock HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
    assert _exchange(ours.port, b"GET /_sandbox/clock HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200 OK\r\n")
