import sys

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboard import roles
from dashboard.users import UserExists, password_set_path, user_create


class Command(BaseCommand):
    help = "Create a user with a role. Without --password-stdin, prints a one-time link to set a password."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[r.lower() for r in roles.ROLE_PERMISSIONS])
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    def handle(self, *args, email, role, password_stdin, **options):
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        if password_stdin and not password:
            raise CommandError("No password was given on standard input.")
        try:
            user = user_create(email=email, role=role.capitalize(), password=password)
        except (UserExists, ValidationError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(message) from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} ({role})."))
        if not password:
            link = settings.PUBLIC_BASE_URL.rstrip("/") + password_set_path(user)
            self.stdout.write(f"One-time link to choose a password: {link}")
