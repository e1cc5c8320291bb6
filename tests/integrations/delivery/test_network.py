"""The SSRF guard and the bounded POST: refusals are checked at send time, redirects are not followed."""

from __future__ import annotations

import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from integrations.delivery import network
from integrations.delivery.signing import headers_for


@pytest.fixture(autouse=True)
def _nothing_allowed(settings):
    settings.DESTINATION_ALLOWED_HOSTS = []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8766/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://0.0.0.0/",
    ],
)
def test_inside_addresses_are_refused(url):
    with pytest.raises(network.DestinationRefused, match="loopback, private, link-local or metadata"):
        network.post(url, b"{}", {})


def test_a_host_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(network, "resolve", lambda host, port: ["10.0.0.5"])
    with pytest.raises(network.DestinationRefused, match=r"hooks\.example\.com resolves to 10\.0\.0\.5"):
        network.target_check("https://hooks.example.com/in")


def test_every_address_is_checked_not_only_the_first(monkeypatch):
    monkeypatch.setattr(network, "resolve", lambda host, port: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(network.DestinationRefused, match=r"127\.0\.0\.1"):
        network.target_check("https://hooks.example.com/in")


def test_a_public_address_passes_and_the_connection_is_pinned_to_it(monkeypatch):
    monkeypatch.setattr(network, "resolve", lambda host, port: ["93.184.216.34"])
    target = network.target_check("https://hooks.example.com:8443/in?x=1")
    assert (target.address, target.host_header, target.path) == ("93.184.216.34", "hooks.example.com:8443", "/in?x=1")


def test_an_allowed_host_may_be_private(settings):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    assert network.target_check("http://127.0.0.1:9/").address == "127.0.0.1"


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://example.com/", "http:// or https://"), ("https://user:pw@example.com/", "Credentials"),
     ("http://example.com:99999/", "not a valid URL")],
)
def test_bad_urls_are_refused_before_any_lookup(url, message):
    assert message in network.url_problem(url)
    with pytest.raises(network.DestinationRefused, match=message):
        network.target_check(url)


def test_the_check_happens_at_send_time_so_a_changed_dns_answer_is_caught(monkeypatch, settings):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(network, "resolve", lambda host, port: next(answers))
    network.target_check("https://hooks.example.com/")  # when saved
    with pytest.raises(network.DestinationRefused):
        network.post("https://hooks.example.com/", b"{}", {})  # when sent


def test_redirects_are_not_followed(receiver):
    result = network.post(f"{receiver.url}/status/302", b"{}", {})
    assert result.status_code == 302 and not result.ok
    assert "not followed" in result.error
    assert len(receiver.receiver.received()) == 1


def test_a_host_name_reaches_the_checked_address(receiver, receiver_secret, monkeypatch, settings):
    settings.DESTINATION_ALLOWED_HOSTS = ["receiver.test"]
    monkeypatch.setattr(network, "resolve", lambda host, port: ["127.0.0.1"])
    body = b'{"type":"x"}'
    result = network.post(f"http://receiver.test:{receiver.port}/hook", body, headers_for([receiver_secret], "m", body))
    assert result.ok
    assert receiver.receiver.received()[0]["path"] == "/hook"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_a_huge_response_is_read_only_up_to_the_bound(settings):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x" * (1024 * 1024) for _ in range(8)]  # 8 MiB

    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        result = network.post(f"http://127.0.0.1:{server.server_port}/", b"{}", {})
    finally:
        server.server_close()
    assert result.ok and len(result.excerpt) == network.EXCERPT


def test_a_silent_server_times_out(settings, monkeypatch):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(network, "READ_TIMEOUT", 0.2)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        result = network.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", b"{}", {})
    assert result.status_code is None and result.error == "Timed out."


def test_a_closed_port_is_a_connection_error(settings):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = network.post(f"http://127.0.0.1:{port}/", b"{}", {})
    assert result.status_code is None and "refused" in result.error


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible (deprecated, still routed by some stacks)
        "::10.0.0.1",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:0:10.1.2.3",  # IPv4-translated (RFC 2765)
        "64:ff9b::127.0.0.1",  # NAT64 well-known prefix
        "64:ff9b::169.254.169.254",
        "64:ff9b:1::a00:1",  # NAT64 local-use prefix (RFC 8215): never a public destination
        "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 carrying 169.254.169.254
        "2002:c0a8:10a::1",  # 6to4 carrying 192.168.1.10
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo: client 127.0.0.1 (bits inverted)
        "2001:0:a00:1:8000:63bf:f5ff:fffe",  # Teredo: server 10.0.0.1, client 10.0.0.1
    ],
)
def test_ipv6_forms_carrying_an_inside_ipv4_address_are_refused(monkeypatch, address):
    monkeypatch.setattr(network, "resolve", lambda host, port: [address])
    assert not network.is_public(address)
    with pytest.raises(network.DestinationRefused, match="loopback, private, link-local or metadata"):
        network.target_check("https://hooks.example.com/in")
    with pytest.raises(network.DestinationRefused):
        network.target_check(f"https://[{address}]/in")


@pytest.mark.parametrize("address", ["64:ff9b::93.184.216.34", "2002:5db8:d822::1", "2606:4700::1111"])
def test_ipv6_forms_carrying_a_public_ipv4_address_pass(address):
    assert network.is_public(address)
