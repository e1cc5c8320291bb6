from django.core.management.base import BaseCommand

from integrations.connections.key_rotation import encryption_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (every *_enc column, and the MFA secrets) with the newest key in "
        "TOKEN_ENCRYPTION_KEYS. Put a new key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        report = encryption_keys_rotate()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {report.rotated} secret(s) with the newest key."))
        if report.unreadable:
            self.stdout.write(self.style.WARNING(
                f"{report.unreadable} connection(s) hold a secret no configured key can read; "
                "they are marked 'needs reconnect'."
            ))
        for label in report.unreadable_other:
            self.stdout.write(self.style.WARNING(
                f"{label} cannot be decrypted with any configured key: keep the key that wrote it, or replace "
                "the secret (a destination: rotate its signing secret)."
            ))
