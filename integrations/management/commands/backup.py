"""manage.py backup PATH: an online, consistent copy of the SQLite database (safe while the worker writes)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.retention.backup import BackupError, database_backup


class Command(BaseCommand):
    help = ("Copy the SQLite database to PATH with SQLite's backup API: one consistent moment, taken while "
            "the web server and workers keep running. Tokens stay encrypted in the copy. On PostgreSQL, use "
            "pg_dump (docs/deploy.md, 'Backups').")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the new backup file")
        parser.add_argument("--force", action="store_true", help="replace PATH if it exists")

    def handle(self, *args, path: Path, force: bool = False, **options):
        try:
            check = database_backup(target=path, overwrite=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        size = check.path.stat().st_size
        self.stdout.write(self.style.SUCCESS(
            f"Backed up to {check.path} ({size / 1e6:,.1f} MB, {check.tables} tables, integrity ok)."))
