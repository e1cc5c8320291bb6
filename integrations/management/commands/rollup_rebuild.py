"""`manage.py rollup_rebuild [--since DAY] [--until DAY]`: recompute the statistics rollups (the agency's days,
each location's months) from the raw points, for points deleted some other way than the sync and a
location's deletion (which keep them in step). Months are recomputed whole."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from integrations.data_versions import versions_move_all
from integrations.sync.agency_rollup import agency_days_rebuild, location_months_rebuild


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise CommandError(f"not a day (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Recompute the statistics rollups (AgencyDay, LocationMonth) from the raw points."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first day to recompute (YYYY-MM-DD); default: every day")
        parser.add_argument("--until", help="last day to recompute (YYYY-MM-DD)")

    def handle(self, *args, **options):
        since, until = _day(options["since"]), _day(options["until"])
        days = agency_days_rebuild(since, until)
        months = location_months_rebuild(since, until)
        versions_move_all()  # the answers kept from the rollups as they were are not kept any longer
        self.stdout.write(f"agency rollup: {days} rows recomputed; location months: {months} rows recomputed")
