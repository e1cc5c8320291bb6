"""The HTTP path under the client (transport.py): HighLevelAdapter keeps one pool per origin and a
kept-alive connection to the sandbox over real HTTP, copies no cookies, and answers are decoded with orjson,
json taking what orjson refuses."""

from __future__ import annotations

import math

import pytest
import requests
import responses

from integrations.highlevel.config import ClientConfig
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
from integrations.highlevel.transport import HighLevelAdapter, Transport, _decode

BASE = "https://hl.test"


def transport(base_url: str) -> Transport:
    config = ClientConfig(base_url=base_url, api_version="2021-07-28", timeout=(2.0, 5.0), max_retries=0,
                          client_id="abc-1", client_secret="s")
    return Transport(config, token=lambda: "tok", limiter=MemoryRateLimiter())


def test_requests_to_the_sandbox_share_one_kept_alive_connection(sandbox_server, sandbox):
    client = transport(sandbox_server.url)
    adapter = client.session.get_adapter(sandbox_server.url)
    assert isinstance(adapter, HighLevelAdapter)
    for _ in range(5):
        answer = client._call("GET", "/_sandbox/state", parse=lambda body: body, resource_id="x", auth=False,
                              token_endpoint=True)
        assert answer["locations"]
    (pool,) = adapter._pools.values()
    assert pool.num_connections == 1  # one TCP connection for the five: HTTP/1.1 kept alive both ways
    assert pool.num_requests == 5


def test_the_pool_of_an_origin_is_looked_up_once_until_the_adapter_closes():
    adapter = HighLevelAdapter()
    first = requests.Request("GET", f"{BASE}/a?x=1").prepare()
    pool = adapter.get_connection_with_tls_context(first, True)
    assert adapter.get_connection_with_tls_context(requests.Request("POST", f"{BASE}/b/c").prepare(), True) is pool
    assert adapter.get_connection_with_tls_context(first, False) is not pool  # TLS settings are part of the key
    other = adapter.get_connection_with_tls_context(requests.Request("GET", "https://other.test/").prepare(), True)
    assert other is not pool and other.host == "other.test"
    adapter.close()
    assert adapter._pools == {}
    assert adapter.get_connection_with_tls_context(first, True) is not pool


def test_through_a_proxy_the_pool_and_url_are_requests_own():
    adapter = HighLevelAdapter()
    request = requests.Request("GET", "http://hl.test/a").prepare()
    proxies = {"http": "http://proxy.internal:3128"}
    assert adapter.get_connection_with_tls_context(request, True, proxies=proxies).host == "proxy.internal"
    assert adapter._pools == {}
    assert adapter.request_url(request, proxies) == "http://hl.test/a"  # a proxied http request: the whole URL
    assert adapter.request_url(request, {}) == "/a"


@responses.activate
def test_an_answers_cookies_are_not_kept():
    responses.get(f"{BASE}/x", json={"ok": True}, headers={"Set-Cookie": "session=abc; Path=/"})
    client = transport(BASE)
    response = client._send("GET", f"{BASE}/x", {"Accept": "application/json"}, query=None, json_body=None,
                            form=None)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert response.headers["set-cookie"] == "session=abc; Path=/"  # the headers are all there
    assert len(response.cookies) == 0 and len(client.session.cookies) == 0


class Body:
    def __init__(self, content: bytes) -> None:
        self.content = content


@pytest.mark.parametrize(("content", "expected"), [
    (b'{"a": [1, 2.5, null, "\\u00e9"]}', ({"a": [1, 2.5, None, "\u00e9"]}, True)),
    # Past 64 bits orjson reads a number as a float: the double HighLevel's JavaScript servers held anyway.
    (b'{"big": 123456789012345678901234567890}', ({"big": 1.2345678901234568e+29}, True)),
    (b'{"a": 1', (None, False)),
    (b"", (None, False)),
    (b"<html>busy</html>", (None, False)),
])
def test_answers_decode_as_json_decoded_them(content, expected):
    assert _decode(Body(content)) == expected


def test_a_nan_that_json_accepted_still_decodes():
    body, decoded = _decode(Body(b'{"v": NaN}'))
    assert decoded and math.isnan(body["v"])
