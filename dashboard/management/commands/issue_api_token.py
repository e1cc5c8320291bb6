from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.api_tokens import api_token_issue


class Command(BaseCommand):
    help = "Print a new personal API token for the JSON API (stored hashed; shown only now)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="API token")

    def handle(self, *args, email, name, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the email {email}.")
        _token, raw = api_token_issue(user=user, name=name)
        self.stdout.write(raw)
        self.stderr.write(f"Token {name!r} for {user.email}: use it as 'Authorization: Bearer <token>'. "
                          "It is not stored and will not be shown again; revoke it on the profile page.")
