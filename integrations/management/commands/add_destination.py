"""python manage.py add_destination NAME URL --events tag.created,tag.removed [--location ID ...]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.delivery import network
from integrations.delivery.services import destination_create
from integrations.models import Event, Location


class Command(BaseCommand):
    help = "Create a webhook destination (for scripted setups) and print its signing secret once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("url")
        parser.add_argument("--events", required=True,
                            help=f"comma-separated event types: {', '.join(Event.Type.values)}")
        parser.add_argument("--location", action="append", default=[], metavar="ID",
                            help="a HighLevel location id to cover (repeat; default: all locations)")

    def handle(self, *args, name: str, url: str, events: str, location: list[str], **options):
        event_types = [e.strip() for e in events.split(",") if e.strip()]
        unknown = sorted(set(event_types) - set(Event.Type.values))
        if unknown or not event_types:
            raise CommandError(f"Unknown or missing event types {unknown}; choose from {', '.join(Event.Type.values)}.")
        problem = network.url_problem(url)
        if problem:
            raise CommandError(problem)
        locations = list(Location.objects.filter(location_id__in=location))
        missing = sorted(set(location) - {loc.location_id for loc in locations})
        if missing:
            raise CommandError(f"No such location: {', '.join(missing)}.")
        destination, secret = destination_create(name=name, url=url, event_types=event_types, locations=locations)
        self.stdout.write(self.style.SUCCESS(f"Destination {destination.pk} “{destination.name}” created."))
        self.stdout.write(f"Signing secret (shown only now): {secret}")
