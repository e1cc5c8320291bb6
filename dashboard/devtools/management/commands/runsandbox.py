"""python manage.py runsandbox: serve the HighLevel simulator in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer


class Command(BaseCommand):
    help = "Serve the HighLevel sandbox (a simulator with seeded data) until Ctrl-C."

    def add_arguments(self, parser):
        defaults = SandboxConfig()
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--agencies", type=int, default=defaults.agencies)
        parser.add_argument("--locations", type=int, default=defaults.locations)
        parser.add_argument("--tags", type=int, default=defaults.tags)
        parser.add_argument("--days", type=int, default=defaults.days)
        parser.add_argument("--verbose-requests", action="store_true", help="log every request")

    def handle(self, *args, **options):
        config = SandboxConfig().with_overrides(
            {name: options[name] for name in ("seed", "agencies", "locations", "tags", "days")})
        server = SandboxServer(config, host=options["host"], port=options["port"],
                               verbose=options["verbose_requests"])
        sandbox = server.sandbox
        first = next(iter(sandbox.skeleton.locations.values()))
        self.stdout.write(f"HighLevel sandbox at {server.url}")
        self.stdout.write(f"  client id: {config.client_id}   client secret: {config.client_secret}")
        self.stdout.write(f"  private integration token for {first.name} ({first.id}): {sandbox.pits[first.id]}")
        self.stdout.write(f"  control API: {server.url}/_sandbox/state   (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Sandbox stopped.")
