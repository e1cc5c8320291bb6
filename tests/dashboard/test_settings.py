"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from dashboard.envparse import env_bool, env_csv, env_int

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TAGSCOPE_", "DJANGO_", "DEBUG"))}
    base.pop("SECRET_KEY", None)
    base.pop("TOKEN_ENCRYPTION_KEYS", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "dashboard.settings", **env},
        capture_output=True, text=True, timeout=120,
    )


PROD_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-a-long-and-random-production-secret-key-for-tests",
    "ALLOWED_HOSTS": "tagscope.example.com",
    "DATABASE_URL": "sqlite:////tmp/tagscope-deploy-check.sqlite3",
}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_a_secret_and_names_it(missing):
    env = {**PROD_ENV, "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    env.pop(missing)
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    env = {**PROD_ENV, "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    db = tmp_path / "wal.sqlite3"
    code = (
        "import django; django.setup();"
        "from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]);"
        "print(connection.transaction_mode)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "DEBUG": "true",
             "DATABASE_URL": f"sqlite:///{db}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "IMMEDIATE"]


def test_redis_url_switches_the_broker_and_cache():
    code = (
        "from django.conf import settings;"
        "print(settings.Q_CLUSTER.get('redis'), 'orm' in settings.Q_CLUSTER, settings.CACHES['default']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code], cwd=ROOT, capture_output=True,
        text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "DEBUG": "true",
             "REDIS_URL": "redis://127.0.0.1:6379/3"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://127.0.0.1:6379/3", "False", "django.core.cache.backends.redis.RedisCache"]


def test_django_q_retry_outlasts_its_timeout():
    from django.conf import settings

    q = settings.Q_CLUSTER
    assert q["retry"] > q["timeout"]
    assert q["catch_up"] is False
    assert 1 <= q["max_attempts"] <= 10


@pytest.mark.parametrize("raw", ["ture", "2", "enabled"])
def test_booleans_are_parsed_strictly(monkeypatch, raw):
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be true or false"):
        env_bool("SOME_FLAG", default=False)


def test_env_helpers_read_values_and_defaults(monkeypatch):
    monkeypatch.setenv("FLAG_ON", "Yes")
    monkeypatch.setenv("NUM", "12")
    monkeypatch.setenv("HOSTS", "a.example, b.example ,")
    assert env_bool("FLAG_ON", default=False) is True
    assert env_bool("FLAG_UNSET_X", default=True) is True
    assert env_int("NUM", default=1) == 12
    assert env_csv("HOSTS", default=[]) == ["a.example", "b.example"]
    monkeypatch.setenv("NUM", "twelve")
    with pytest.raises(ImproperlyConfigured, match="NUM must be a whole number"):
        env_int("NUM", default=1)


def test_production_refuses_the_sandbox_whose_webhook_key_comes_from_a_public_seed():
    env = {**PROD_ENV, "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "HIGHLEVEL_SANDBOX": "true"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "HIGHLEVEL_SANDBOX is on while DEBUG is off" in result.stderr


def test_no_variable_loosens_the_production_secret_check():
    """The suite's own switch of old (TAGSCOPE_TESTING) no longer lets production start without a secret."""
    env = {**PROD_ENV, "TAGSCOPE_TESTING": "1"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS is not set" in result.stderr


def test_a_malformed_number_names_its_variable(monkeypatch):
    from dashboard.envparse import env_float

    monkeypatch.setenv("RATIO", "8O.5")
    with pytest.raises(ImproperlyConfigured, match="RATIO must be a number"):
        env_float("RATIO", default=1.0)
    monkeypatch.setenv("RATIO", " 80.5 ")
    assert env_float("RATIO", default=1.0) == 80.5


def _printed(setting: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _manage("shell", "-c", f"from django.conf import settings; print(settings.{setting})",
                   env={"DEBUG": "true", **env})


@pytest.mark.parametrize(("raw", "expected"), [("", "0"), ("1", "1"), ("2", "2")])
def test_trusted_proxy_count_reaches_allauth(raw, expected):
    result = _printed("ALLAUTH_TRUSTED_PROXY_COUNT", {"TRUSTED_PROXY_COUNT": raw})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


@pytest.mark.parametrize("raw", ["-1", "one"])
def test_a_nonsense_trusted_proxy_count_is_refused(raw):
    result = _printed("ALLAUTH_TRUSTED_PROXY_COUNT", {"TRUSTED_PROXY_COUNT": raw})
    assert result.returncode != 0 and "TRUSTED_PROXY_COUNT must be" in result.stderr
