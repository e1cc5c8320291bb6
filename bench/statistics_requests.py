"""How many statistics requests does a location's first statistics refresh make, under each contract?

    .venv/bin/python bench/statistics_requests.py              # 6 accounts, a 181-day horizon
    .venv/bin/python bench/statistics_requests.py --accounts 3 --horizon 30

Against an in-process sandbox (no latency: the figures are counts, not times) on a throwaway SQLite file:
- v3: a location's first refresh (ranges, then one-day breakdowns back to the horizon), and its second;
- 2021-07-28: the same refresh of another location while the sandbox refuses v3 (one refused request,
  then the default window per scope), the same day again, and the next day.
Prints the sandbox's count of `POST /social-media-posting/statistics` for each; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from common import setup_django

STATISTICS = "POST /social-media-posting/statistics"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=6)
    parser.add_argument("--horizon", type=int, default=181)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(str(Path(tmp) / "bench.sqlite3"))
        measure(options.accounts, options.horizon)


def measure(accounts: int, horizon: int) -> None:
    import time_machine
    from django.conf import settings
    from django.utils import timezone

    from dashboard.devtools.demo import sandbox_agency_connect
    from integrations.models import Connection, Location, StatisticsPoint
    from integrations.sync.services import refresh_location_enqueue
    from sandbox.client import SandboxControl
    from sandbox.config import SandboxConfig
    from sandbox.server import SandboxServer

    server = SandboxServer(SandboxConfig(seed=1, locations=2, tags=10, days=horizon + 30,
                                         accounts_per_location=(accounts, accounts))).start()
    try:
        control = SandboxControl(server.url)
        state = control.state()
        settings.HIGHLEVEL_API_BASE_URL = server.url
        settings.HIGHLEVEL_CLIENT_ID, settings.HIGHLEVEL_CLIENT_SECRET = state["client_id"], state["client_secret"]
        settings.SYNC_STATISTICS_HORIZON_DAYS = horizon
        settings.Q_CLUSTER["sync"] = True  # the refresh runs here, now
        connection = sandbox_agency_connect(control, redirect_uri="http://localhost/cb")
        first, second = Location.objects.filter(connection=connection).order_by("location_id")[:2]

        def refresh(location) -> int:
            control.reset_stats()
            run = refresh_location_enqueue(location, kinds=["accounts"])  # profile ids, not counted below
            control.reset_stats()
            run = refresh_location_enqueue(location, kinds=["statistics"])
            run.refresh_from_db()
            assert run.status == "succeeded", run.error
            return control.stats()["requests"]["by_endpoint"].get(STATISTICS, 0)

        rows = []
        rows.append(("v3, first refresh", refresh(first), _days(StatisticsPoint, first)))
        rows.append(("v3, second refresh (same day)", refresh(first), _days(StatisticsPoint, first)))
        control.refuse_v3()
        rows.append(("2021-07-28 fallback, first refresh (v3 refused)", refresh(second),
                     _days(StatisticsPoint, second)))
        assert Connection.objects.get(pk=connection.pk).social_api_version == "2021-07-28"
        rows.append(("2021-07-28, second refresh (same day)", refresh(second), _days(StatisticsPoint, second)))
        control.advance(86400)
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            rows.append(("2021-07-28, next day", refresh(second), _days(StatisticsPoint, second)))
    finally:
        server.stop()
    print(f"Statistics requests of one location with {accounts} accounts, a {horizon}-day horizon "
          f"({accounts + 1} scopes: all accounts and each one)")
    print(f"{'refresh':52} {'requests':>9} {'days stored':>12}")
    for name, count, days in rows:
        print(f"{name:52} {count:>9} {days:>12}")


def _days(model, location) -> int:
    return model.objects.filter(location=location, profile_id="").values("day").distinct().count()


if __name__ == "__main__":
    main()
