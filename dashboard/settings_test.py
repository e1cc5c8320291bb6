"""Settings for the test suite: the real settings with TAGSCOPE_TESTING on (dev secrets allowed, tasks run
in-process, rate limits off, fast password hashing)."""

import os

os.environ.setdefault("TAGSCOPE_TESTING", "1")

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that exercise the MFA requirement switch it on themselves.
MFA_REQUIRED = False
