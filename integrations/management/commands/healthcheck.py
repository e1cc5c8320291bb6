import json

from django.core.management.base import BaseCommand, CommandError

from integrations.health import health_report


class Command(BaseCommand):
    help = "Check database, broker, cache, worker heartbeat and schedules; exit 1 when unhealthy."

    def handle(self, *args, **options):
        report = health_report()
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
        if not report.ok:
            raise CommandError("unhealthy")
