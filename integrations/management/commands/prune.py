"""manage.py prune [--dry-run]: what the nightly `tagscope.prune` schedule does, now."""

from django.core.management.base import BaseCommand

from integrations.retention.prune import prune_run
from integrations.retention.rules import rule_windows


class Command(BaseCommand):
    help = ("Delete the rows past their retention window (RETENTION_* settings), in short batches, after rolling "
            "up the HighLevel calls that go; --dry-run counts them instead.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        windows = ", ".join(f"{name} {value}" for name, value in sorted(rule_windows().items()))
        self.stdout.write(f"Windows: {windows}")
        verb = "would delete" if dry_run else "deleted"
        record = prune_run(dry_run=dry_run, trigger="command",
                           progress=lambda label, n: self.stdout.write(f"  {label}: {verb} {n:,}"))
        total = sum(record.deleted.values())
        if not dry_run:
            self.stdout.write(f"Rolled up {record.rolled_up_days} day(s) of HighLevel calls.")
        done = "would be deleted" if dry_run else "deleted"
        self.stdout.write(self.style.SUCCESS(f"{total:,} row(s) {done} in {record.seconds:.1f} s."))
        if record.error:
            self.stderr.write(self.style.ERROR(f"Some tables could not be pruned:\n{record.error}"))
