"""Online backups of the SQLite database and their restore (docs/deploy.md, "Backups").

A backup is SQLite's backup API (sqlite3.Connection.backup) run in one step: it reads the database inside a
single read transaction, so the copy is one consistent moment even while the worker writes (WAL lets the
writers go on meanwhile), and it is written beside the target first, checked, then renamed into place.
Tokens and secrets are stored encrypted (the `_enc` columns), so they are encrypted in the copy too.

A restore checks the copy first (integrity, that it is a Tagscope database, migrations this code knows),
keeps a copy of the current database beside it, and writes the backup into the live file with the same
API, so processes that keep the file open read the restored data at their next query. PostgreSQL has its
own tools (pg_dump, pg_restore): these functions refuse it with a pointer to docs/deploy.md.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone

POSTGRES_MESSAGE = (
    "This database is PostgreSQL: back it up with pg_dump and restore it with pg_restore, as "
    "docs/deploy.md, 'Backups', shows (with a restore drill). manage.py backup and restore copy SQLite files."
)
WORKER_ALIVE = timedelta(minutes=3)  # the heartbeat schedule beats every minute


class BackupError(Exception):
    """A backup or restore that cannot or must not go ahead; the message says why and what to do."""


@dataclass
class Check:
    path: Path
    tables: int = 0
    applied: int = 0
    missing: list[str] = field(default_factory=list)  # migrations the copy lacks: migrate runs after a restore


def live_database_path() -> Path:
    if connection.vendor != "sqlite":
        raise BackupError(POSTGRES_MESSAGE)
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"The database {name!r} is not a file; there is nothing to copy.")
    return Path(name)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    # pages=-1: the whole database in one step, i.e. one read transaction on the source: a consistent moment.
    source.backup(target, pages=-1)


def database_backup(*, target: Path, overwrite: bool = False) -> Check:
    """Copy the live database to `target` (a new file unless `overwrite`); answers the copy's check."""
    live = live_database_path()
    target = Path(target)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already; choose a new name (or pass --force to replace it).")
    if target.resolve() == live.resolve():
        raise BackupError("The backup cannot be the database itself.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        source = sqlite3.connect(live, timeout=60)
        copy = sqlite3.connect(partial)
        try:
            _copy(source, copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
            source.close()
        check = backup_check(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    check.path = target
    return check


def _known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def backup_check(path: Path) -> Check:
    """Refuse a file that is not a sound Tagscope database this code can run: answers what it found."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened as SQLite: {exc}") from None
    try:
        try:
            verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a SQLite database: {exc}") from None
        if verdict != ["ok"]:
            raise BackupError(f"{path} failed SQLite's integrity check: {'; '.join(verdict[:5])}")
        if "django_migrations" not in tables or "integrations_connection" not in tables:
            raise BackupError(f"{path} is a SQLite database but not Tagscope's (no Tagscope tables in it).")
        applied = {(app, name) for app, name in db.execute("SELECT app, name FROM django_migrations")}
    finally:
        db.close()
    known = _known_migrations()
    apps = {app for app, _ in known}
    unknown = sorted(f"{app}.{name}" for app, name in applied if app in apps and (app, name) not in known)
    if unknown:
        raise BackupError(f"{path} was made by a newer Tagscope (migrations this code does not know: "
                          f"{', '.join(unknown[:5])}); restore it with that version.")
    if ("integrations", "0001_initial") not in applied:
        raise BackupError(f"{path} is not a Tagscope database (its migrations lack integrations.0001_initial).")
    missing = sorted(f"{app}.{name}" for app, name in known - applied)
    return Check(path=path, tables=len(tables), applied=len(applied), missing=missing)


def worker_seen_seconds_ago() -> float | None:
    """Seconds since a qcluster last beat (None: none ever did, or not recently)."""
    from integrations.models import WorkerHeartbeat

    last = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    if last is None or timezone.now() - last > WORKER_ALIVE:
        return None
    return (timezone.now() - last).total_seconds()


def database_restore(*, source: Path, force: bool = False) -> tuple[Check, Path]:
    """Put the backup `source` in place of the live database (after `backup_check`); answers its check and
    where the database as it was has been kept. Refuses while a worker beats, unless `force`."""
    live = live_database_path()
    check = backup_check(source)
    seen = worker_seen_seconds_ago()
    if seen is not None and not force:
        wait = (WORKER_ALIVE.total_seconds() - seen) if seen is not None else 0
        raise BackupError(f"A worker (qcluster) reported {seen:.0f} s ago. Stop every qcluster first, so none "
                          "writes into the restored database from what it had in memory. Once they are stopped, "
                          f"restore goes ahead when the last report is 3 minutes old (in {wait:.0f} s), or now "
                          "with --force.")
    kept = live.with_name(f"{live.name}.before-restore-{timezone.now():%Y%m%d-%H%M%S}")
    database_backup(target=kept)
    connection.close()
    backup = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    target = sqlite3.connect(live, timeout=60)
    try:
        _copy(backup, target)
        target.execute("PRAGMA journal_mode=WAL")  # the live file stays in WAL, as settings.py opens it
    finally:
        target.close()
        backup.close()
    return check, kept
