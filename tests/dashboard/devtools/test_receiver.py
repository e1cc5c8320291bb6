"""The demo receiver verifies Standard Webhooks signatures and lists what it got, newest first."""

from __future__ import annotations

import requests

from integrations.delivery.signing import headers_for, secret_generate
from tests.integrations.delivery import conftest as delivery_fixtures

# The delivery tests' fixtures: a live receiver on a free port.
receiver = delivery_fixtures.receiver
receiver_secret = delivery_fixtures.receiver_secret


def test_it_verifies_and_lists_newest_first(receiver, receiver_secret):
    first, second = b'{"type":"tag.created","data":{}}', b'{"type":"tag.removed","test":true,"data":{}}'
    ok = requests.post(receiver.url, data=first, headers=headers_for([receiver_secret], "msg_1", first), timeout=5)
    forged = requests.post(receiver.url, data=second, headers=headers_for([secret_generate()], "msg_2", second),
                           timeout=5)
    assert (ok.status_code, forged.status_code) == (200, 401)
    got = requests.get(f"{receiver.url}/messages.json", timeout=5).json()
    assert [(m["webhook_id"], m["valid"], m["type"], m["test"]) for m in got] == [
        ("msg_2", False, "tag.removed", True), ("msg_1", True, "tag.created", False)]
    page = requests.get(receiver.url, timeout=5).text
    assert "signature INVALID" in page and "signature valid" in page
    assert page.index("msg_2") < page.index("msg_1")


def test_without_a_secret_it_says_so_honestly():
    from dashboard.devtools.receiver import ReceiverServer

    server = ReceiverServer([]).start()
    try:
        requests.post(server.url, data=b"{}", timeout=5)
        page = requests.get(server.url, timeout=5).text
    finally:
        server.stop()
    assert "signature not checked: unknown secret" in page


def test_it_answers_a_chosen_status(receiver):
    assert requests.post(f"{receiver.url}/status/503", data=b"{}", timeout=5).status_code == 503
