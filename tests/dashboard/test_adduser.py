from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from dashboard import roles


@pytest.mark.django_db
def test_it_creates_an_admin_with_a_password_from_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-Strong-passphrase-42\n"))
    out = io.StringIO()
    call_command("adduser", "Boss@Example.com", "--role", "admin", "--password-stdin", stdout=out)
    user = get_user_model().objects.get(email="boss@example.com")
    assert user.check_password("a-Strong-passphrase-42")
    assert roles.is_admin(user) and user.is_staff
    assert "One-time link" not in out.getvalue()


@pytest.mark.django_db
def test_without_a_password_it_prints_a_one_time_link_that_works(client):
    out = io.StringIO()
    call_command("adduser", "new@example.com", "--role", "marketer", stdout=out)
    user = get_user_model().objects.get(email="new@example.com")
    assert not user.has_usable_password()
    assert roles.has_permission(user, roles.BROWSE)
    assert not roles.has_permission(user, roles.MANAGE_CONNECTIONS)
    link = next(line for line in out.getvalue().splitlines() if "One-time link" in line).split(": ", 1)[1]
    path = link.split("localhost:8000", 1)[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert b"password" in response.content.lower()
    assert b"Bad Token" not in response.content


@pytest.mark.django_db
def test_it_refuses_a_duplicate_and_a_bad_email():
    call_command("adduser", "dup@example.com", "--role", "marketer", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("adduser", "DUP@example.com", "--role", "admin", stdout=io.StringIO())
    with pytest.raises(CommandError, match="valid email"):
        call_command("adduser", "not-an-email", "--role", "admin", stdout=io.StringIO())


@pytest.mark.django_db
def test_it_refuses_a_weak_password(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("adduser", "weak@example.com", "--role", "admin", "--password-stdin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(email="weak@example.com").exists()
