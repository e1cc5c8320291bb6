"""Fixtures shared by the whole suite: users by role, signed-in clients, and browser settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.keys import webhook_public_key_pem

# Playwright's sync API keeps an event loop in the main thread; Django would refuse ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery-9"
RESULTS_DIR = Path(__file__).resolve().parent.parent / "test-results"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _restore_roles() -> None:
    """Transactional tests flush every table, the migration-made groups too; put them back."""
    import importlib

    from django.apps import apps

    importlib.import_module("dashboard.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("dashboard.migrations.0007_campaign_aliases").grant_manage_campaigns(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test databases, with every main-thread connection closed before they are dropped.

    Once a browser test has run, Playwright's sync API marks its event loop as running in the main thread,
    on and off, for the rest of the session. While it is marked, Django (asgiref's Local) keeps the main
    thread's connections in a context-local storage instead of the thread-local one, so the main thread
    ends up holding one connection in each. The teardown closes only the one it sees, and PostgreSQL then
    refuses to drop a database "being accessed by other users". Close both.
    """
    yield
    import asyncio

    from django.db import connections

    running = asyncio._get_running_loop()
    stand_in = None if running is not None else asyncio.new_event_loop()
    try:
        for loop in (None, running or stand_in):  # the thread-local storage, then the context-local one
            asyncio._set_running_loop(loop)
            connections.close_all()
    finally:
        asyncio._set_running_loop(running)
        if stand_in is not None:
            stand_in.close()


@pytest.fixture(autouse=True)
def _fresh_performance_memo():
    """Tests roll their rows back, so a later test may rebuild ids and counts that the tag performance memo's
    data version (dashboard/selectors/performance_memo.py) saw with other figures: each test starts afresh."""
    from dashboard.selectors.performance_memo import memo_clear

    memo_clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_rate_limiter(settings):
    """Each test's database starts empty, so the process-wide limiter starts afresh too, its Redis log included:
    the sandbox's locations have the same ids in every test, and a test travelling back in time found the
    claims a test before it had made within the window, months in its future (a wait of months)."""
    from integrations.clients.limiters import reset_rate_limiter

    reset_rate_limiter()
    if settings.REDIS_URL:
        import redis

        from integrations.highlevel.ratelimit_redis import PREFIX

        with redis.Redis.from_url(settings.REDIS_URL) as client:
            stale = list(client.scan_iter(f"{PREFIX}:*", count=1000))
            if stale:
                client.delete(*stale)
    yield
    reset_rate_limiter()


@pytest.fixture
def make_user(db):
    from dashboard.users import user_create

    _restore_roles()

    def make(email: str, role: str = "Marketer", password: str = PASSWORD):
        return user_create(email=email, role=role, password=password)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("admin@example.com", "Admin")


@pytest.fixture
def marketer_user(make_user):
    return make_user("marketer@example.com", "Marketer")


@pytest.fixture
def admin_http(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def marketer_http(client, marketer_user):
    client.force_login(marketer_user)
    return client


# --- HighLevel sandbox ------------------------------------------------------------------------------------
@pytest.fixture
def hl(settings, sandbox):
    """Point Tagscope at the live sandbox (its URLs, app credentials and webhook key); yields the control."""
    state = sandbox.state()
    settings.HIGHLEVEL_API_BASE_URL = sandbox.url
    settings.HIGHLEVEL_AUTHORIZE_URL = f"{sandbox.url}/oauth/chooselocation"
    settings.HIGHLEVEL_CLIENT_ID = state["client_id"]
    settings.HIGHLEVEL_CLIENT_SECRET = state["client_secret"]
    settings.HIGHLEVEL_WEBHOOK_PUBLIC_KEY = webhook_public_key_pem(state["config"]["seed"])
    settings.HIGHLEVEL_MAX_RETRIES = 2
    return sandbox


# --- Browser (pytest-playwright) ---------------------------------------------------------------------
def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: browser tests skipped (make test installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    if not Path(CHROMIUM).exists():
        return f"NOTE: Chromium not found at {CHROMIUM}; browser tests will be skipped."
    return f"browser: {CHROMIUM}"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def screenshots():
    RESULTS_DIR.mkdir(exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = RESULTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture
def signed_in_page(page, live_server, make_user, transactional_db):
    """A Chromium page signed in through the real sign-in form; `page.user` is the user."""

    def sign_in(email: str = "admin@example.com", role: str = "Admin"):
        user = make_user(email, role)
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
        return user

    return sign_in

# The HighLevel sandbox fixtures: sandbox_server (session) and sandbox (reset per test).
pytest_plugins = ["tests.fixtures.sandbox"]


def pytest_unconfigure(config):
    """Django removes the SQLite test file but not its WAL and shared-memory companions."""
    from django.conf import settings

    if not settings.configured:
        return
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME") or ""
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
