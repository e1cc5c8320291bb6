"""Settings for the test suite: settings_local.py (the real settings with throwaway secrets, tasks run
in-process, sign-in rate limits off, static files through the finders) plus fast password hashing, mail kept
in memory, a test database file per session, and the dev tools app."""

import os
import tempfile

from dashboard.settings_local import *  # noqa: F403
from dashboard.settings_local import DATABASES, INSTALLED_APPS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that exercise the MFA requirement switch it on themselves.
MFA_REQUIRED = False

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not shared-cache memory: threads and worker processes in tests then lock and wait the way
    # production does (WAL + busy timeout). One file per test session, so parallel sessions never meet.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"tagscope-test-{os.getpid()}.sqlite3")
    }

# Reach, comments and shares cost one request per day and account; the suite keeps that to a week (the
# tests of the one-day backfill set their own horizon).
SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = 7
# Under pytest's transactional `db` fixture another thread's connection would not see the test's rows: lanes
# and batches run in the caller's thread (the same code), except in the tests that switch threads on over a
# transactional database (tests/integrations/sync/test_threads.py).
SYNC_THREADS = False
# The limiter's rings in the test database, which every test starts afresh; the file rings' own tests
# (tests/integrations/highlevel/test_ratelimit_file.py) give them a directory of their own.
RATE_LIMIT_DIRECTORY = ""

# The dev tools app (installed under DEBUG only) is installed here so its commands are tested.
INSTALLED_APPS = [*INSTALLED_APPS, "dashboard.devtools"]
