from django.core.management.base import BaseCommand

from integrations.crypto import generate_key


class Command(BaseCommand):
    help = "Print a new Fernet key for TOKEN_ENCRYPTION_KEYS (put it first, keep older keys after it)."

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
