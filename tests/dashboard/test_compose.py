"""compose.yaml starts the production shape with commands and settings that exist. (No Docker engine on
the CI machine: this checks the file against the project, not a running stack.)"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import yaml
from cryptography.fernet import Fernet
from django.core.management import get_commands

from tests.dashboard.test_settings import _manage

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _env_example() -> dict[str, str]:
    lines = (ROOT / "docs" / "compose.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_shape_is_postgres_redis_web_behind_tls_and_at_least_three_workers():
    services = _compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker", "proxy"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] >= 3
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "web:8000" in services["proxy"]["command"]


def test_every_management_command_it_runs_exists():
    # In commands, healthchecks (lists) and the comments on how to use it.
    used = set(re.findall(r'manage\.py"?,? "?(\w+)', (ROOT / "compose.yaml").read_text()))
    assert {"migrate", "collectstatic", "qcluster", "healthcheck", "adduser"} <= used
    assert used <= set(get_commands())


def test_its_environment_passes_check_deploy_once_the_secrets_are_filled_in():
    example = _env_example()
    assert {"SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "HIGHLEVEL_CLIENT_ID", "HIGHLEVEL_CLIENT_SECRET"} <= set(example)
    filled = {**example, "SECRET_KEY": secrets.token_urlsafe(50), "HIGHLEVEL_CLIENT_ID": "app-id-suffix",
              "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "HIGHLEVEL_CLIENT_SECRET": "a-secret"}
    env = {**filled, **_compose()["services"]["web"]["environment"]}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={k: str(v) for k, v in env.items()})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_compose_trusts_its_one_proxy_for_client_addresses():
    for name in APP_SERVICES:
        assert str(_compose()["services"][name]["environment"]["TRUSTED_PROXY_COUNT"]) == "1"
