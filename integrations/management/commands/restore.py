"""manage.py restore PATH: put a backup made by `manage.py backup` in place of the SQLite database."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from integrations.data_versions import versions_move_all
from integrations.retention.backup import BackupError, database_restore


class Command(BaseCommand):
    help = ("Restore the SQLite database from a backup, after checking it (SQLite's integrity check, a Tagscope "
            "database, no migration this code does not know). Stop every qcluster first; the web server may "
            "keep running and reads the restored data at its next request. The database as it was is kept "
            "beside it (*.before-restore-<time>). On PostgreSQL, use pg_restore (docs/deploy.md, 'Backups').")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a file made by manage.py backup")
        parser.add_argument("--force", action="store_true",
                            help="restore even though a worker reported in the last minutes")

    def handle(self, *args, path: Path, force: bool = False, **options):
        try:
            check, kept = database_restore(source=path, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"The database as it was is kept in {kept}.")
        if check.missing:
            self.stdout.write(f"The backup lacks {len(check.missing)} migration(s) of this version; applying them.")
            call_command("migrate", interactive=False, verbosity=0)
        # A running web process keeps answers by the locations' data versions: the restored rows get new ones.
        versions_move_all()
        self.stdout.write(self.style.SUCCESS(
            f"Restored {path} ({check.tables} tables). Start the qcluster again; its schedules carry on from "
            "the restored state (runs that were in flight when the backup was taken are swept and redone)."))
