"""python manage.py runreceiver [--port 8766] [--secret whsec_...]: a demo webhook receiver."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from dashboard.devtools.receiver import DEMO_SECRET, ReceiverServer


class Command(BaseCommand):
    help = "Serve a webhook receiver that verifies signatures and lists what it got, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--secret", action="append", default=[], metavar="whsec_...",
                            help="a signing secret to verify with (repeat for several). "
                                 "Default under DEBUG: the demo destination's secret.")

    def handle(self, *args, host: str, port: int, secret: list[str], **options):
        secrets = secret or ([DEMO_SECRET] if settings.DEBUG else [])
        server = ReceiverServer(secrets, host=host, port=port)
        self.stdout.write(f"Webhook receiver at {server.url}/ (POST anything; Ctrl-C to stop)")
        if not secrets:
            self.stdout.write("No --secret: signatures are shown as not checked.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Receiver stopped.")
        finally:
            server.stop()
