"""Do the tables stay bounded, and how long does the nightly prune take? 30 days of an agency's syncs.

    .venv/bin/python bench/lifecycle.py                  # 200 locations, 30 days, the default windows
    .venv/bin/python bench/lifecycle.py --quick          # 10 locations, 14 days, 4-day windows (a test runs it)
    .venv/bin/python bench/lifecycle.py --days 100       # longer: the 90-day run window fills by itself

An agency of `--locations` locations at the default schedules (tags every 15 minutes, statistics hourly,
accounts daily): each refresh writes what the sync writes (a `connection` run and a unit run per location,
its HighLevel calls, and the events, deliveries and attempts that follow), inserted directly in bulk with a
moving clock, not through HTTP. Every simulated night at 03:30 the prune runs (integrations/retention/).

So that every window fills within the simulated month, the rows whose window is longer than the month less
a week (runs: 90 days, audit entries: 400) are given the history an agency would have by then, written
before the first day, as they would have been. The database is a throwaway SQLite file.

Prints, per simulated week, the rows of each table and the database's size; then each table's growth over
the last week (target: none, once its window is full) and the nightly prune's time (target < 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from common import setup_django

START = datetime(2026, 1, 1, tzinfo=UTC)
CALLS = {"tags": 2, "statistics": 4, "accounts": 1}  # HighLevel requests per unit run
EVERY_MINUTES = {"tags": 15, "statistics": 60, "accounts": 1440}
CHUNK = 10_000
GROWTH_TOLERANCE = 0.02  # a week's growth below 2%: bounded (the daily volume is the same every day)
PRUNE_TARGET_SECONDS = 30.0


class Agency:
    """Writes the rows of one day of refreshes; ids are handed out here, so rows can point at each other."""

    def __init__(self, *, locations: int, seed: int = 7) -> None:
        from integrations import crypto
        from integrations.models import Connection, Destination, Location

        self.random = random.Random(seed)
        self.connection = Connection.objects.create(
            name="Bench agency", kind=Connection.Kind.OAUTH_AGENCY, company_id="BENCHCO",
            access_token_enc=crypto.encrypt("bench-token"), status=Connection.Status.ACTIVE)
        Location.objects.bulk_create([Location(location_id=f"BENCHLOC{n:05d}", name=f"Location {n}",
                                               connection=self.connection, is_installed=True)
                                      for n in range(locations)])
        self.locations = list(Location.objects.order_by("pk").values_list("pk", "location_id"))
        self.destination = Destination.objects.create(
            name="CRM", url="https://crm.example.com/hook", secret_enc=crypto.encrypt("whsec"),
            event_types=["tag.created", "tag.updated", "tag.removed", "statistics.updated"])
        self.next_id = {"run": 1, "event": 1, "delivery": 1}

    def _ids(self, what: str, n: int) -> range:
        first = self.next_id[what]
        self.next_id[what] = first + n
        return range(first, first + n)

    # --- one refresh of one kind, at `at` ---------------------------------------------------------------
    def refresh(self, kind: str, at: datetime, out: dict[str, list]) -> None:
        parent_id = self._ids("run", 1)[0]
        done = at + timedelta(seconds=40)
        out["runs"].append((parent_id, "connection", "succeeded", "schedule", None, self.connection.pk, None,
                            len(self.locations), len(self.locations), {}, "", [], [], 0, "", at, at, done))
        for run_id, (location_pk, location_id) in zip(self._ids("run", len(self.locations)), self.locations,
                                                      strict=True):
            failed = self.random.random() < 0.01
            out["runs"].append((run_id, kind, "failed" if failed else "succeeded", "schedule", location_pk,
                                None, parent_id, 1, 1, {"requests": CALLS[kind]}, "HTTP 502" if failed else "",
                                [], [], 1, "w1", at, at, done))
            for n in range(CALLS[kind]):
                throttled = self.random.random() < 0.01
                out["calls"].append((at + timedelta(seconds=n), "GET", f"/social-media-posting/{kind}",
                                     location_id, self.connection.pk, run_id, 429 if throttled else 200,
                                     self.random.randint(40, 900), 2 if throttled else 1, "", "", None, None, None))
            self._events(kind, at, location_pk, location_id, run_id, out)

    def _events(self, kind: str, at: datetime, location_pk: int, location_id: str, run_id: int,
                out: dict[str, list]) -> None:
        if kind == "statistics":
            types = ["statistics.updated"]
        elif kind == "tags" and self.random.random() < 0.02:  # now and then a tag is created or changed
            types = [self.random.choice(["tag.created", "tag.updated", "tag.removed"])]
        else:
            return
        for event_id, event_type in zip(self._ids("event", len(types)), types, strict=True):
            out["events"].append((event_id, event_type, at, self.connection.pk, location_pk, "tag-1", {},
                                  run_id))
            delivery_id = self._ids("delivery", 1)[0]
            sent = at + timedelta(seconds=5)
            out["deliveries"].append((delivery_id, self.destination.pk, event_id, location_id, event_type, False,
                                      f"msg_bench_{delivery_id}", json.dumps({"type": event_type}), "delivered", 1,
                                      sent, None, sent, 200, "", sent, at))
            out["attempts"].append((delivery_id, 1, sent, 200, 120, "ok", ""))

    # --- one day ----------------------------------------------------------------------------------------
    def day(self, day: date, tables: set[str]) -> None:
        """Write one day's rows of `tables` (labels of TABLES; a history day writes only some)."""
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        if tables & {"SyncRun", "ApiCall", "Event", "Delivery", "DeliveryAttempt"}:
            out: dict[str, list] = {"runs": [], "calls": [], "events": [], "deliveries": [], "attempts": []}
            for kind, every in EVERY_MINUTES.items():
                for tick in range(0, 1440, every):
                    self.refresh(kind, midnight + timedelta(minutes=tick), out)
            wanted = {"runs": "SyncRun", "calls": "ApiCall", "events": "Event", "deliveries": "Delivery",
                      "attempts": "DeliveryAttempt"}
            write({name: rows for name, rows in out.items() if wanted[name] in tables})
        self.extras(day, midnight, tables)

    def extras(self, day: date, midnight: datetime, tables: set[str]) -> None:
        """What a day adds besides the refreshes: quota days, app webhooks, audit entries, failed tasks."""
        from django_q.models import Failure

        from integrations.bulk import rows_insert
        from integrations.models import AuditEntry, DeliveryCursor, InboundWebhook, RateLimitDay

        if "RateLimitDay" in tables:
            rows_insert(RateLimitDay, ("key", "day", "count", "reported_remaining", "reported_limit"),
                        [(f"location:{lid}", day, 300, 199_700, 200_000) for _, lid in self.locations])
        if "InboundWebhook" in tables:
            rows_insert(InboundWebhook, ("webhook_id", "type", "received_at", "company_id", "location_id",
                                         "outcome"),
                        [(f"wh-{day}-{n}", "LocationUpdate", midnight + timedelta(hours=n), "BENCHCO", "", "ok")
                         for n in range(10)])
        if "AuditEntry" in tables:  # a location token minted per location and day
            rows_insert(AuditEntry, ("at", "actor_label", "action", "connection_id", "detail"),
                        [(midnight + timedelta(seconds=n), "system", "location_token", self.connection.pk, "minted")
                         for n in range(len(self.locations))])
        if "Failure" in tables:
            Failure.objects.bulk_create([
                Failure(id=f"{day}-{n}", name=f"failed-{day}-{n}", func="integrations.tasks.x", started=midnight,
                        stopped=midnight, success=False) for n in range(3)])
        # The fan-out has read every event so far (deliveries_sweep runs every minute).
        DeliveryCursor.objects.update_or_create(name="fanout", defaults={"last_event_id": self.next_id["event"] - 1})


RUN_FIELDS = ("id", "kind", "status", "trigger", "location_id", "connection_id", "parent_id", "progress_done",
              "progress_total", "counts", "error", "problems", "trace_ids", "attempts", "worker", "created_at",
              "started_at", "finished_at")
CALL_FIELDS = ("at", "method", "endpoint", "resource_id", "connection_id", "run_id", "status", "latency_ms",
               "attempt", "error", "trace_id", "rate_limit_remaining", "daily_remaining", "daily_limit")
EVENT_FIELDS = ("id", "type", "occurred_at", "connection_id", "location_id", "subject_id", "payload", "run_id")
DELIVERY_FIELDS = ("id", "destination_id", "event_seq", "location_key", "event_type", "is_test", "message_id",
                   "body", "status", "attempts", "next_attempt_at", "claimed_until", "enqueued_at",
                   "last_status_code", "last_error", "delivered_at", "created_at")
ATTEMPT_FIELDS = ("delivery_id", "number", "at", "status_code", "latency_ms", "response_excerpt", "error")


def chunks(rows: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def write(out: dict[str, list]) -> None:
    from django.db import transaction

    from integrations.bulk import rows_insert
    from integrations.models import ApiCall, Delivery, DeliveryAttempt, Event, SyncRun

    tables = {"runs": (SyncRun, RUN_FIELDS), "calls": (ApiCall, CALL_FIELDS), "events": (Event, EVENT_FIELDS),
              "deliveries": (Delivery, DELIVERY_FIELDS), "attempts": (DeliveryAttempt, ATTEMPT_FIELDS)}
    for name, rows in out.items():
        model, fields = tables[name]
        for part in chunks(rows):
            with transaction.atomic():  # short transactions, as the sync writes
                rows_insert(model, fields, part)


# --- measuring ----------------------------------------------------------------------------------------------
TABLES = {  # label: (model path, setting holding its window)
    "ApiCall": ("integrations.ApiCall", "RETENTION_API_CALLS_DAYS"),
    "ApiCallDay": ("integrations.ApiCallDay", None),
    "SyncRun": ("integrations.SyncRun", "RETENTION_SYNC_RUNS_DAYS"),
    "Event": ("integrations.Event", "RETENTION_EVENTS_DAYS"),
    "Delivery": ("integrations.Delivery", "RETENTION_DELIVERIES_DAYS"),
    "DeliveryAttempt": ("integrations.DeliveryAttempt", "RETENTION_DELIVERIES_DAYS"),
    "InboundWebhook": ("integrations.InboundWebhook", "RETENTION_INBOUND_WEBHOOKS_DAYS"),
    "AuditEntry": ("integrations.AuditEntry", "RETENTION_AUDIT_DAYS"),
    "RateLimitDay": ("integrations.RateLimitDay", None),  # rules.rate_limit_days_kept()
    "Failure": ("django_q.Failure", "RETENTION_FAILED_TASKS_DAYS"),
}


def counts() -> dict[str, int]:
    from django.apps import apps

    found = {}
    for label, (path, _) in TABLES.items():
        model = apps.get_model(path)
        found[label] = model.objects.count() if label != "Failure" else model.objects.filter(success=False).count()
    return found


def quick_windows() -> None:
    """Short windows, so that every one fills within a short run (settings are set here directly, below the
    minimums the environment parser enforces)."""
    from django.conf import settings

    for name in ("RETENTION_API_CALLS_DAYS", "RETENTION_SYNC_RUNS_DAYS", "RETENTION_EVENTS_DAYS",
                 "RETENTION_DELIVERIES_DAYS", "RETENTION_INBOUND_WEBHOOKS_DAYS", "RETENTION_AUDIT_DAYS",
                 "RETENTION_FAILED_TASKS_DAYS"):
        setattr(settings, name, 4)
    settings.RETENTION_SYNC_RUNS_KEEP = 3


def megabytes(n: int | None) -> str:
    return f"{n / 1e6:,.1f} MB" if n is not None else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10 locations, 14 days, 4-day windows")
    args = parser.parse_args()
    if args.quick:
        args.locations, args.days = 10, 14
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="tagscope-lifecycle-") as tmp:
        setup_django(os.path.join(tmp, "lifecycle.sqlite3"))
        return simulate(args.locations, args.days, quick=args.quick)


def simulate(locations: int, days: int, *, quick: bool) -> int:
    from django.conf import settings

    from integrations.retention.prune import prune_run
    from integrations.retention.sizes import database_bytes, table_sizes

    if quick:
        quick_windows()
    from integrations.retention.rules import rate_limit_days_kept

    windows = {label: int(getattr(settings, setting)) if setting else None
               for label, (_, setting) in TABLES.items()}
    windows["RateLimitDay"] = rate_limit_days_kept()
    agency = Agency(locations=locations)
    print(f"agency: {locations} locations; tags every 15 min, statistics hourly, accounts daily; {days} days"
          f"{' (quick: 4-day windows)' if quick else ''}")
    print("windows (days): " + ", ".join(f"{k} {v}" for k, v in windows.items() if v))

    started = time.monotonic()
    # A table whose window is longer than the month less a week gets the days before day 1 it needs to be
    # full for the last week (written oldest first, as they would have been).
    history = {label: max(0, window - days + 8) for label, window in windows.items() if window}
    for back in range(max(history.values()), 0, -1):
        agency.day((START - timedelta(days=back)).date(), {label for label, n in history.items() if n >= back})
    print("history before day 1 (days): " + ", ".join(f"{k} {v}" for k, v in history.items() if v)
          + f" ({time.monotonic() - started:.0f} s)")

    nightly: list[tuple[int, float, int]] = []  # (day, prune seconds, rows deleted)
    by_day: dict[int, dict[str, int]] = {}
    header = f"{'week':>4} {'day':>4} " + " ".join(f"{label:>15}" for label in TABLES) + f" {'database':>12}"
    print(f"\nrows per table after the night's prune, per simulated week\n{header}")
    for n in range(1, days + 1):
        day = (START + timedelta(days=n - 1)).date()
        agency.day(day, set(TABLES))
        night = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=3,
                                                                                                       minutes=30)
        record = prune_run(now=night, measure=False)
        if record.error:
            print(f"prune error on day {n}: {record.error}")
        nightly.append((n, record.seconds, sum(record.deleted.values())))
        by_day[n] = counts()
        if n % 7 == 0 or n == days:
            size = database_bytes()
            print(f"{(n + 6) // 7:>4} {n:>4} " + " ".join(f"{by_day[n][label]:>15,}" for label in TABLES)
                  + f" {megabytes(size):>12}", flush=True)
    took = time.monotonic() - started

    print("\nnightly prune (seconds, rows deleted), last 7 nights: "
          + ", ".join(f"day {d}: {s:.2f} s / {r:,}" for d, s, r in nightly[-7:]))
    measure_started = time.monotonic()
    sizes = table_sizes()
    measured = time.monotonic() - measure_started
    biggest = ", ".join(f"{row['table']} {megabytes(row['bytes'])}" for row in sizes[:4] if row["bytes"])
    print(f"table sizes (dbstat) measured in {measured:.2f} s; largest: {biggest or 'dbstat not available'}")

    print("\ngrowth over the last simulated week (target: none once the window is full)")
    bounded = judged = 0
    last, week_before = by_day[days], by_day.get(days - 7)
    for label, window in windows.items():
        if window is None:
            print(f"  {label:<16} kept for ever (one row per connection and day): {last[label]:,} rows")
            continue
        judged += 1
        before = week_before[label] if week_before else 0
        growth = (last[label] - before) / before if before else (0.0 if not last[label] else 1.0)
        ok = week_before is not None and abs(growth) <= GROWTH_TOLERANCE
        bounded += ok
        print(f"  {label:<16} window {window:>3} days: {before:>12,} -> {last[label]:>12,} rows  "
              f"{growth:+.1%}  {'bounded' if ok else 'GROWING'}")
    print(f"tables bounded: {bounded} of {judged}  target {judged} of {judged}")
    steady = [s for _, s, _ in nightly[-7:]]
    print(f"nightly prune: {max(steady):.2f} s at most over the last 7 nights, "
          f"{sum(s for _, s, _ in nightly) / len(nightly):.2f} s on average  target < {PRUNE_TARGET_SECONDS:.0f} s")
    print(f"database size: {megabytes(database_bytes())} after {days} days")
    print(f"simulated in {took:.0f} s (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
