"""`manage.py refresh [--location ID ...] [--connection ID] [--all] [--kind KIND ...] [--wait]`."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from integrations.db import idle
from integrations.models import Connection, Location, SyncRun
from integrations.sync import runs, services
from integrations.sync.scheduling import enqueue_units

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Enqueue a refresh of locations (or, with --wait, run it here and show its progress)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--location", action="append", default=[], metavar="ID",
                            help="HighLevel location id (or Tagscope's numeric id); repeatable")
        parser.add_argument("--connection", type=int, metavar="ID", help="every location of this connection")
        parser.add_argument("--all", action="store_true", help="every location of every usable connection")
        parser.add_argument("--kind", action="append", choices=list(services.REFRESHERS), default=None,
                            help="only this kind of data (repeatable; default: accounts, tags, statistics)")
        parser.add_argument("--wait", action="store_true", help="run in this process and show progress")

    def handle(self, *args, location: list[str], connection: int | None, all: bool, kind, wait: bool, **_) -> None:
        if not (location or connection or all):
            raise CommandError("Say what to refresh: --location ID, --connection ID or --all.")
        shown, units = self._plan(location, connection, all, kind)
        if not wait:
            enqueue_units([unit.pk for unit in units])
            for run in shown:
                self.stdout.write(f"enqueued run {run.pk} ({run.kind}{self._where(run)})")
            return
        ids = [unit.pk for unit in units]
        # The units side by side, as a worker runs a batch; the bar counts their requests as they go.
        services.units_execute(run_ids=ids, watch=lambda: self._progress(ids))
        # A unit that failed but may try again comes back here when its time comes (on-demand retries are
        # short: SYNC_ON_DEMAND_ATTEMPTS), so the command ends with every unit's final word.
        while waiting := list(SyncRun.objects.filter(pk__in=ids, status=SyncRun.Status.WAITING)
                              .order_by("next_attempt_at")):
            soonest = waiting[0]
            sys.stdout.write(f"\nrun {soonest.pk} {soonest.kind}: attempt {soonest.attempts} failed; next attempt at "
                             f"{soonest.next_attempt_at:%H:%M:%S} UTC: {soonest.error[:200]}")
            idle(max(0.0, (soonest.next_attempt_at - timezone.now()).total_seconds()))
            due = [run.pk for run in waiting if run.next_attempt_at <= timezone.now()]
            services.units_execute(run_ids=due, watch=lambda: self._progress(ids))
        sys.stdout.write("\n")
        failed = 0
        for unit in SyncRun.objects.filter(pk__in=[u.pk for u in units]).select_related("location"):
            failed += unit.status == SyncRun.Status.FAILED
            counts = ", ".join(f"{k} {v}" for k, v in unit.counts.items())
            self.stdout.write(f"run {unit.pk} {unit.kind}{self._where(unit)}: {unit.status}"
                              f"{' (' + counts + ')' if counts else ''}{' — ' + unit.error if unit.error else ''}")
        if failed:
            raise CommandError(f"{failed} of {len(units)} refreshes failed")

    def _plan(self, location_ids, connection_id, everything, kinds):
        if everything:
            _, shown, units = runs.bulk_plan(services.locations_interleaved(), kind=SyncRun.Kind.ALL,
                                                 kinds=kinds, trigger="command")
            return shown, units
        if connection_id:
            if not Connection.objects.filter(pk=connection_id).exists():
                raise CommandError(f"No connection {connection_id}.")
            _, shown, units = runs.bulk_plan(services.locations_interleaved([connection_id]),
                                                 kind=SyncRun.Kind.CONNECTION, connection_id=connection_id,
                                                 kinds=kinds, trigger="command")
            return shown, units
        shown, units = [], []
        for ident in location_ids:
            match = Q(location_id=ident) | (Q(pk=int(ident)) if ident.isdigit() else Q())
            found = Location.objects.filter(match).first()
            if found is None:
                raise CommandError(f"No location {ident}.")
            top, its_units = runs.location_plan(found, kinds=kinds, trigger="command")
            shown.append(top)
            units.extend(its_units)
        return shown, units

    @staticmethod
    def _where(run: SyncRun) -> str:
        return f" of {run.location.name} ({run.location.location_id})" if run.location_id else ""

    def _progress(self, ids: list[int]) -> None:
        runs = list(SyncRun.objects.filter(pk__in=ids).values_list("status", "progress_done", "progress_total"))
        finished = sum(status in SyncRun.FINISHED for status, _, _ in runs)
        done = sum(d if status not in SyncRun.FINISHED else max(d, t, 1) for status, d, t in runs)
        total = sum(max(d, t, 1) for _, d, t in runs)
        self._bar(done, total, f"{finished} of {len(ids)} refreshes finished")

    def _bar(self, done: int, total: int, label: str) -> None:
        filled = int(BAR_WIDTH * done / total) if total else BAR_WIDTH
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {label[:60]:<60}")
        sys.stdout.flush()
