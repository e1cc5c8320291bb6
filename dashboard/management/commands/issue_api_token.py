from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.api_tokens import DEFAULT_DAYS, MAX_DAYS, api_token_issue, mfa_missing


class Command(BaseCommand):
    help = "Print a new personal API token for the JSON API (stored hashed; shown only now)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="API token")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                            help=f"How long the token works, 1 to {MAX_DAYS} days (default {DEFAULT_DAYS}).")

    def handle(self, *args, email, name, days, **options):
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        user = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the email {email}.")
        if mfa_missing(user):
            raise CommandError(f"{user.email} has no two-factor authentication, which MFA_REQUIRED demands; "
                               "their tokens would be refused. Have them set it up first.")
        token, raw = api_token_issue(user=user, name=name, days=days)
        self.stdout.write(raw)
        self.stderr.write(f"Token {name!r} for {user.email}: use it as 'Authorization: Bearer <token>'. "
                          f"It expires on {token.expires_at:%Y-%m-%d}. It is not stored and will not be shown "
                          "again; revoke it on the profile page.")
