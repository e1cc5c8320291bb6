"""Settings for a process that runs the product outside production without DEBUG: the test suite
(settings_test.py builds on this) and the benchmarks (bench/common.py). The real settings, with throwaway
secrets set before they are read (settings.py itself never loosens its production checks), tasks run in the
calling process unless Q_SYNC=false, sign-in rate limits off and static files served through the finders
(no collectstatic). Never for a deployment."""

import os

os.environ.setdefault("SECRET_KEY", "dev-insecure-tagscope-key-change-me-0123456789abcdefghijklmnop")
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", "ZGV2LW9ubHktdGFnc2NvcGUta2V5LW5vdC1zZWNyZXQ=")

from dashboard.envparse import env_bool
from dashboard.settings import *  # noqa: F403
from dashboard.settings import Q_CLUSTER, STORAGES

ACCOUNT_RATE_LIMITS = False
SECURE_SSL_REDIRECT = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
Q_CLUSTER = {**Q_CLUSTER, "sync": env_bool("Q_SYNC", default=True)}
