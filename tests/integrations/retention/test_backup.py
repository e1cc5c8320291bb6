"""manage.py backup and restore: a consistent copy taken while a worker writes, restored to a working
dashboard; the checks that refuse a wrong file; tokens encrypted in the copy; PostgreSQL pointed at its tools."""

from __future__ import annotations

import glob
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from integrations import crypto
from integrations.models import ApiCall, Connection, Location, SyncRun, Tag, WorkerHeartbeat
from integrations.retention import backup

TOKEN = "sbxat_plaintext_token_that_must_not_leak_7f3a"


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's backup API; PostgreSQL is pointed at pg_dump (test below)")


@pytest.fixture
def cleanup_kept():
    yield
    for path in glob.glob(f"{connection.settings_dict['NAME']}.before-restore-*"):
        Path(path).unlink(missing_ok=True)


def _place() -> Location:
    agency = Connection.objects.create(name="Backup agency", kind=Connection.Kind.OAUTH_AGENCY, company_id="C9",
                                       access_token_enc=crypto.encrypt(TOKEN))
    location = Location.objects.create(location_id="LOCbackup01", connection=agency, name="Backed-up bakery",
                                       is_installed=True)
    Tag.objects.create(location=location, tag_id="tag-kept", name="Spring sale",
                       first_seen_at=timezone.now(), last_seen_at=timezone.now())
    return location


class Writer(threading.Thread):
    """A worker stand-in: a sync run and its 20 calls written together, one transaction after another. Its
    21st transaction stops halfway (10 calls written, uncommitted) until `go_on`, so the backup is taken
    while a write is in flight."""

    def __init__(self, location: Location) -> None:
        super().__init__(daemon=True)
        self.location, self.written, self.error, self.held_run = location, 0, None, None
        self.stop, self.halfway, self.go_on, self.went_on = (threading.Event() for _ in range(4))

    def _calls(self, run: SyncRun, n: int) -> None:
        ApiCall.objects.bulk_create([ApiCall(at=timezone.now(), method="GET", endpoint="/tags", run_id=run.pk,
                                             latency_ms=5) for _ in range(n)])

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with transaction.atomic():
                    run = SyncRun.objects.create(kind="tags", status="succeeded", location=self.location)
                    self._calls(run, 10)
                    if self.written == 20:
                        self.held_run = run.pk
                        self.halfway.set()
                        assert self.go_on.wait(30)
                    self._calls(run, 10)
                self.written += 1
                if self.written == 25:
                    self.went_on.set()
        except Exception as exc:  # surfaced by the test
            self.error = exc
        finally:
            connections.close_all()


def _rows(path: Path, sql: str) -> list:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_backup_taken_while_a_worker_writes_restores_to_a_working_dashboard(
        transactional_db, sqlite_only, cleanup_kept, tmp_path, make_user):
    location = _place()
    admin = make_user("admin@example.com", role="Admin")
    writer = Writer(location)
    writer.start()
    assert writer.halfway.wait(30)
    target = tmp_path / "tagscope.backup.sqlite3"
    call_command("backup", str(target))  # while the writer holds a transaction open, halfway through
    writer.go_on.set()
    assert writer.went_on.wait(30)  # and it goes on writing afterwards
    writer.stop.set()
    writer.join(30)
    assert writer.error is None and writer.written >= 25

    # One consistent moment: every run in the copy has all its 20 calls, and no call lacks its run.
    per_run = _rows(target, "SELECT r.id, COUNT(c.id) FROM integrations_syncrun r LEFT JOIN integrations_apicall c"
                            " ON c.run_id = r.id GROUP BY r.id")
    assert len(per_run) == 20 and {n for _, n in per_run} == {20}  # the held run is not in it, nor half of it
    assert writer.held_run not in {run for run, _ in per_run}
    assert _rows(target, "SELECT COUNT(*) FROM integrations_apicall WHERE run_id NOT IN "
                         "(SELECT id FROM integrations_syncrun)") == [(0,)]
    assert _rows(target, "PRAGMA integrity_check") == [("ok",)]
    in_backup = len(per_run)

    # Things change after the backup; the restore puts the copy's state back.
    Tag.objects.all().delete()
    SyncRun.objects.all().delete()
    connections.close_all()
    backed_up = _rows(target, "SELECT tags_version, statistics_version FROM integrations_location "
                              f"WHERE id = {location.pk}")
    call_command("restore", str(target))
    assert SyncRun.objects.count() == in_backup and Tag.objects.get().name == "Spring sale"
    # A web process kept answers by the data versions it saw: the restored rows come with new ones.
    restored = Location.objects.values_list("tags_version", "statistics_version").get(pk=location.pk)
    assert restored[0] != backed_up[0][0] and restored[1] != backed_up[0][1]
    assert _rows(Path(connection.settings_dict["NAME"]), "PRAGMA journal_mode") == [("wal",)]
    kept = glob.glob(f"{connection.settings_dict['NAME']}.before-restore-*")
    assert len(kept) == 1 and _rows(Path(kept[0]), "SELECT COUNT(*) FROM integrations_tag") == [(0,)]

    client = Client()
    client.force_login(admin)
    tags = client.get(f"/locations/{location.location_id}/tags/")
    assert tags.status_code == 200 and "Spring sale" in tags.content.decode()
    operations = client.get("/operations/")
    assert operations.status_code == 200 and "Backed-up bakery" in operations.content.decode()
    assert crypto.decrypt(Connection.objects.get().access_token_enc) == TOKEN


def test_tokens_stay_encrypted_in_the_backup(transactional_db, sqlite_only, tmp_path):
    _place()
    target = tmp_path / "copy.sqlite3"
    call_command("backup", str(target))
    data = target.read_bytes()
    assert TOKEN.encode() not in data and b"Backed-up bakery" in data  # the copy is readable, the token not


def test_a_backup_never_replaces_a_file_unless_told(db, sqlite_only, tmp_path):
    target = tmp_path / "exists.sqlite3"
    target.write_text("keep me")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(target))
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("kind", ["text", "other-sqlite", "corrupt", "newer"])
def test_restore_refuses_a_file_that_is_not_a_sound_tagscope_backup(transactional_db, sqlite_only, tmp_path, kind):
    _place()
    bad = tmp_path / "bad.sqlite3"
    if kind == "text":
        bad.write_text("not a database at all " * 100)
        message = "not a SQLite database|cannot be opened"
    elif kind == "other-sqlite":
        sqlite3.connect(bad).execute("CREATE TABLE notes (id INTEGER)").connection.commit()
        message = "not Tagscope's"
    else:
        call_command("backup", str(bad))
        if kind == "corrupt":
            data = bytearray(bad.read_bytes())
            for at in range(4096 * 3, len(data) - 4096, 4096):  # scribble over the b-tree pages
                data[at:at + 64] = b"\xff" * 64
            bad.write_bytes(bytes(data))
            message = "integrity check|not a SQLite database|malformed"
        else:
            db = sqlite3.connect(bad)
            db.execute("INSERT INTO django_migrations (app, name, applied) VALUES "
                       "('integrations', '9999_from_the_future', '2030-01-01')")
            db.commit()
            db.close()
            message = "newer Tagscope"
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(bad))
    assert Location.objects.get().name == "Backed-up bakery"  # the live database untouched


def test_restore_waits_for_the_workers_to_stop_unless_forced(transactional_db, sqlite_only, cleanup_kept, tmp_path):
    _place()
    target = tmp_path / "copy.sqlite3"
    call_command("backup", str(target))
    WorkerHeartbeat.objects.create(name="tagscope", beat_at=timezone.now() - timedelta(seconds=20))
    with pytest.raises(CommandError, match="Stop every qcluster"):
        call_command("restore", str(target))
    call_command("restore", str(target), "--force")
    assert not WorkerHeartbeat.objects.exists()  # the copy's state, taken before the worker beat


def test_postgres_is_pointed_at_pg_dump_and_the_deploy_notes(db, monkeypatch, tmp_path):
    class Postgres:
        vendor = "postgresql"

    monkeypatch.setattr(backup, "connection", Postgres())
    for command in ("backup", "restore"):
        with pytest.raises(CommandError, match=r"pg_dump.*docs/deploy\.md"):
            call_command(command, str(tmp_path / "x"))
