"""Make a fresh `make run` usable at once: the demo admin (password printed once)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from dashboard import roles
from dashboard.users import user_create

DEMO_ADMIN = "admin@example.com"


class Command(BaseCommand):
    help = "Create the demo admin (admin@example.com) if missing and print its password once."

    def handle(self, *args, **options):
        if get_user_model().objects.filter(email__iexact=DEMO_ADMIN).exists():
            self.stdout.write(
                f"Demo admin {DEMO_ADMIN} exists (its password was printed on the first `make run`; "
                f"`make clean` starts over)."
            )
            return
        password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
        user_create(email=DEMO_ADMIN, role=roles.ADMIN, password=password, is_superuser=True)
        banner = "=" * 64
        self.stdout.write(self.style.SUCCESS(
            f"{banner}\nDemo admin created.\n  email:    {DEMO_ADMIN}\n  password: {password}\n"
            f"This password is shown only now.\n{banner}"
        ))
