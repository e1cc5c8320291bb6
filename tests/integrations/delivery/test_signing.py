"""Standard Webhooks signatures, checked against the spec's algorithm written out independently."""

from __future__ import annotations

import base64
import hashlib
import hmac

from integrations.delivery import signing


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    # standardwebhooks.com: key = base64-decode(secret without "whsec_"); sign "{id}.{timestamp}.{body}".
    key = base64.b64decode(secret.split("_", 1)[1])
    to_sign = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()


def test_a_secret_is_whsec_and_base64_of_random_bytes():
    secret = signing.secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == signing.SECRET_BYTES
    assert signing.secret_generate() != secret


def test_the_headers_match_the_spec_algorithm():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"tag.created","data":{"name":"VIP"}}'
    headers = signing.headers_for([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", body, timestamp=1614265330)
    assert headers["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek"
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-signature"] == spec_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body)


def test_the_spec_example_vector():
    # The example from the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_during_an_overlap_both_signatures_are_sent_space_separated():
    old, new = signing.secret_generate(), signing.secret_generate()
    body = b"{}"
    headers = signing.headers_for([new, old], "msg_1", body, timestamp=1700000000)
    first, second = headers["webhook-signature"].split(" ")
    assert first == spec_signature(new, "msg_1", "1700000000", body)
    assert second == spec_signature(old, "msg_1", "1700000000", body)
    assert signing.verify(old, headers, body, now=1700000000)
    assert signing.verify(new, headers, body, now=1700000000)


def test_verify_refuses_a_changed_body_a_wrong_secret_and_an_old_timestamp():
    secret = signing.secret_generate()
    headers = signing.headers_for([secret], "msg_1", b"{}", timestamp=1700000000)
    assert not signing.verify(secret, headers, b'{"x":1}', now=1700000000)
    assert not signing.verify(signing.secret_generate(), headers, b"{}", now=1700000000)
    assert not signing.verify(secret, headers, b"{}", now=1700000000 + 3600)
    assert not signing.verify(secret, {}, b"{}")
