from __future__ import annotations

import pytest

from integrations.highlevel.sandbox.keys import webhook_public_key_pem


@pytest.fixture
def hl(settings, sandbox):
    """Point Tagscope at the live sandbox (its URLs, app credentials and webhook key); yields the control."""
    state = sandbox.state()
    settings.HIGHLEVEL_API_BASE_URL = sandbox.url
    settings.HIGHLEVEL_AUTHORIZE_URL = f"{sandbox.url}/oauth/chooselocation"
    settings.HIGHLEVEL_CLIENT_ID = state["client_id"]
    settings.HIGHLEVEL_CLIENT_SECRET = state["client_secret"]
    settings.HIGHLEVEL_WEBHOOK_PUBLIC_KEY = webhook_public_key_pem(state["config"]["seed"])
    settings.HIGHLEVEL_MAX_RETRIES = 2
    return sandbox
