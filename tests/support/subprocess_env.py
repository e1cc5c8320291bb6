"""Environment for a child process (a worker, a script) that must share the test database and sandbox."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The test settings' HighLevel endpoints and secrets, with the test database, for `dashboard.settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,  # django-q2 signs the tasks the test enqueues with it
        "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
        "HIGHLEVEL_API_BASE_URL": settings.HIGHLEVEL_API_BASE_URL,
        "HIGHLEVEL_CLIENT_ID": settings.HIGHLEVEL_CLIENT_ID,
        "HIGHLEVEL_CLIENT_SECRET": settings.HIGHLEVEL_CLIENT_SECRET,
        "HIGHLEVEL_SANDBOX": "false",
        "PYTHONPATH": str(ROOT),
        # the limiter the test process uses, so a child and the test share one limit
        "RATE_LIMIT_DIR": settings.RATE_LIMIT_DIRECTORY or "off",
    })
    env.update(extra)
    return env
