"""An answer's header block read without the email package (integrations/highlevel/http_headers.py): the same
message as http.client's for every block, through the fast path for plain lines and the email parser for the
rest, and the HighLevel adapter's pools read real answers with it."""

from __future__ import annotations

import http.client
import http.server
import io
import threading

import pytest
import requests
import urllib3

from integrations.highlevel import http_headers
from integrations.highlevel.transport import HighLevelAdapter

BLOCKS = {
    "plain": b"Content-Type: application/json\r\nContent-Length: 12\r\nX-RateLimit-Remaining: 99\r\n\r\n",
    "blanks": b"A:b\r\nB:  \t spaced  \r\nC:\r\n\r\n",
    "repeated and latin-1": b"Latin: caf\xe9\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
    "empty": b"\r\n",
    "end of stream": b"",
    "folded": b"Folded: one\r\n two\r\nX: y\r\n\r\n",
    "no colon": b"NoColon\r\nX: y\r\n\r\n",
    "bare LF": b"Bare: lf\nX: y\n\n",
    "bare CR": b"X: a\rb\r\n\r\n",
    "space in a name": b"Has Space: v\r\n\r\n",
    "unended": b"X: y\r\nZ: last",
}
FAST = {"plain", "blanks", "repeated and latin-1", "empty"}


@pytest.mark.parametrize("name", BLOCKS)
def test_a_header_block_reads_as_http_client_reads_it(name):
    block = BLOCKS[name]
    theirs = http.client.parse_headers(io.BytesIO(block + b"the body"))
    fp = io.BytesIO(block + b"the body")
    ours = http_headers.parse_headers(fp)
    assert isinstance(ours, http.client.HTTPMessage)
    assert isinstance(ours, http_headers.PlainMessage) == (name in FAST)
    assert ours.items() == theirs.items()
    for header in ("content-length", "X", "set-cookie", "B", "missing"):
        assert ours.get(header) == theirs.get(header)
        assert ours.get_all(header) == theirs.get_all(header)
    assert ours.get_payload() == theirs.get_payload()
    assert len(ours.defects) == len(theirs.defects)
    if block.endswith(b"\r\n\r\n"):
        assert fp.read() == b"the body"  # the block read, nothing past it


def test_lookups_follow_every_change_made_to_the_message_after_one_was_made():
    block = BLOCKS["repeated and latin-1"] + b"X: 1\r\n\r\n"
    ours = http_headers.parse_headers(io.BytesIO(block))
    theirs = http.client.parse_headers(io.BytesIO(block))
    changes = [
        lambda m: m.__setitem__("Added", "new"),  # appended: a longer list
        lambda m: m.replace_header("set-cookie", "c=3"),  # a value replaced in place, the first of two
        lambda m: m.__delitem__("latin"),  # a new list, one shorter
        lambda m: (m.__delitem__("x"), m.__setitem__("Y", "2")),  # a new list, as long as before
        lambda m: m.add_header("Z", "z", charset="utf-8"),
    ]
    for change in changes:
        for message in (ours, theirs):
            message.get("set-cookie")  # a lookup made before the change
            change(message)
        for header in ("set-cookie", "Latin", "added", "X", "y", "z", "missing"):
            assert ours.get(header) == theirs.get(header), header


def test_the_adapter_reads_a_real_answer_without_the_email_parser():
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-RateLimit-Remaining", "42")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    session = requests.Session()
    adapter = HighLevelAdapter(max_retries=0)
    session.mount("http://", adapter)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tags"
        answers = [session.get(url, timeout=5) for _ in range(2)]  # the second on the kept connection
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    for answer in answers:
        assert answer.status_code == 200 and answer.json() == {"ok": True}
        assert answer.headers["x-ratelimit-remaining"] == "42"
        assert isinstance(answer.raw._original_response.msg, http_headers.PlainMessage)


def test_headers_are_the_mapping_requests_builds():
    session = requests.Session().headers
    ours = http_headers.Headers.of(session.items(), {"accept": "application/json", "Version": "2021"}.items())
    theirs = requests.structures.CaseInsensitiveDict(session)
    theirs.update({"accept": "application/json", "Version": "2021"})
    assert ours == theirs
    assert list(ours.items()) == list(theirs.items())  # the same names, cased as last set, in the same order
    assert ours["ACCEPT"] == "application/json" and ours.get("version") == "2021"
    copied = ours.copy()
    copied["Version"] = "v3"
    assert isinstance(copied, http_headers.Headers) and ours["version"] == "2021" and copied["VERSION"] == "v3"


def test_an_answers_repeated_header_is_joined_as_requests_joins_it():
    raw = urllib3.HTTPResponse(body=b"{}", headers=[("X-A", "1"), ("x-a", "2"), ("Content-Type", "application/json")],
                               status=200, preload_content=False)
    response = HighLevelAdapter().build_response(requests.PreparedRequest(), raw)
    assert response.headers == requests.structures.CaseInsensitiveDict(raw.headers)
    assert response.headers["x-A"] == "1, 2"


def test_headers_read_as_the_mapping_requests_builds():
    pairs = [("Content-Type", "application/json"), ("X-RateLimit-Remaining", "0")]
    ours, theirs = http_headers.Headers.of(pairs), requests.structures.CaseInsensitiveDict(pairs)
    for name in ("content-type", "X-RATELIMIT-REMAINING", "Missing"):
        assert ours.get(name) == theirs.get(name) and ours.get(name, "d") == theirs.get(name, "d")
    assert list(ours.items()) == list(theirs.items()) == pairs and len(ours.items()) == 2
    assert dict(ours) == dict(theirs) and ("Content-Type", "application/json") in ours.items()
