"""Creating users with a role; used by `manage.py adduser` and the demo setup."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from dashboard import roles


class UserExists(ValueError):
    pass


@transaction.atomic
def user_create(*, email: str, role: str, password: str | None = None, is_superuser: bool = False):
    email = email.strip().lower()
    validate_email(email)
    if role not in roles.ROLE_PERMISSIONS:
        raise ValidationError(f"Unknown role {role!r}; choose one of {', '.join(roles.ROLE_PERMISSIONS)}.")
    User = get_user_model()
    if User.objects.filter(email__iexact=email).exists():
        raise UserExists(f"A user with the email {email} already exists.")
    user = User(username=email[:150], email=email, is_staff=role == roles.ADMIN, is_superuser=is_superuser)
    if password:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def password_set_path(user) -> str:
    """A one-time link (allauth's password reset from key) that lets a new user choose a password."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    uidb36 = user_pk_to_url_str(user)
    key = default_token_generator.make_token(user)
    return reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": key})

