"""The product builds its HighLevel clients in one place, from settings, with the shared limiter, the
database recorder and the connection hook; the client itself runs without Django at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import responses

from integrations.clients import highlevel_client, highlevel_config
from integrations.clients.limiters import get_rate_limiter
from integrations.clients.recorders import DatabaseRecorder
from integrations.db import connections_give_back
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.config import ClientConfig
from integrations.highlevel.ratelimit_memory import MemoryRateLimiter

ROOT = Path(__file__).resolve().parents[3]


def test_the_config_comes_from_settings(settings):
    settings.HIGHLEVEL_API_BASE_URL = "https://hl.example"
    settings.HIGHLEVEL_API_VERSION, settings.HIGHLEVEL_SOCIAL_API_VERSION = "2021-07-28", "v3"
    settings.HIGHLEVEL_TIMEOUT, settings.HIGHLEVEL_MAX_RETRIES = (2.0, 9.0), 4
    settings.HIGHLEVEL_CLIENT_ID, settings.HIGHLEVEL_CLIENT_SECRET = "app9-xyz", "s3cret"
    settings.HIGHLEVEL_AUTHORIZE_URL = "https://consent.example/choose"
    assert highlevel_config() == ClientConfig(
        base_url="https://hl.example", api_version="2021-07-28", social_api_version="v3",
        authorize_url="https://consent.example/choose", timeout=(2.0, 9.0), max_retries=4,
        client_id="app9-xyz", client_secret="s3cret",
    )
    assert highlevel_config().app_id == "app9"


def test_the_product_client_gets_the_shared_limiter_a_database_recorder_and_the_hook(db):
    client = highlevel_client(lambda: "token", connection_id=3, run_id=4)
    assert client.limiter is get_rate_limiter()
    assert isinstance(client.recorder, DatabaseRecorder)
    assert client.connection_hook is connections_give_back
    assert (client.connection_id, client.run_id) == (3, 4)


@responses.activate
def test_the_hook_runs_before_every_exchange_but_the_token_grant():
    calls = []
    client = HighLevelClient(ClientConfig(base_url="https://hl.test", client_id="a-b", client_secret="c"),
                             lambda: "token", limiter=MemoryRateLimiter(), connection_hook=lambda: calls.append(1))
    responses.get("https://hl.test/social-media-posting/loc1/accounts",
                  json={"results": {"accounts": [], "groups": []}})
    responses.post("https://hl.test/oauth/token", json={"access_token": "x", "refresh_token": "y", "expires_in": 1})
    client.list_accounts("loc1")
    assert calls == [1]
    client.refresh_token("old")
    assert calls == [1]


@pytest.mark.parametrize("blocked", ["django", "integrations.models", "integrations.db"])
def test_the_client_runs_in_a_process_without_django(blocked):
    """Imported and used with Django (or the ORM, or the rest of integrations) made unimportable."""
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == {blocked!r} or name.startswith({blocked!r} + "."):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from integrations.highlevel import ClientConfig, HighLevelClient
        from integrations.highlevel.ratelimit_memory import MemoryRateLimiter
        client = HighLevelClient(ClientConfig(base_url="http://127.0.0.1:9"), lambda: "t",
                                 limiter=MemoryRateLimiter())
        print(client.base_url, client.version)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:9 2021-07-28"
