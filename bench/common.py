"""What every benchmark does first: put the project on the path and set Django up on a throwaway SQLite
file (migrated), never on the developer's database, and never on Redis."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_django(db_path: str, *, database_url: str = "", redis_url: str = "") -> None:
    """On the throwaway SQLite file, or on the scale-out services when both URLs are given (the database
    named there is made empty first: never point it at a database that matters)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings_local")
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{db_path}"
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


SCALE_OUT_DATABASE = "postgres://postgres@127.0.0.1:5432/tagscope_bench"
SCALE_OUT_REDIS = "redis://127.0.0.1:6379/14"


def scale_out_services(database: str = "tagscope_bench", redis_db: int = 14) -> tuple[str, str]:
    """A fresh `database` (dropped first) and an empty Redis db on this machine's services; (their URLs)."""
    import psycopg
    import redis

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    return f"postgres://postgres@127.0.0.1:5432/{database}", redis_url
