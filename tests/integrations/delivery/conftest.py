"""Fixtures for delivery tests: a live demo receiver on a free port, allowed as a destination host."""

from __future__ import annotations

import pytest

from integrations.delivery.receiver import ReceiverServer
from integrations.delivery.signing import secret_generate


@pytest.fixture
def receiver_secret() -> str:
    return secret_generate()


@pytest.fixture
def receiver(settings, receiver_secret):
    """A ReceiverServer that verifies with `receiver_secret`; 127.0.0.1 is an allowed destination host."""
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    server = ReceiverServer([receiver_secret]).start()
    yield server
    server.stop()
