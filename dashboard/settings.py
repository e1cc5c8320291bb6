"""Tagscope settings: every setting is declared here, read from the environment through the strict parsers
of dashboard/envparse.py (django-environ parses the database and email URLs), with safe dev defaults. Code
reads them as `settings.NAME`, never with a default of its own.

Production (DEBUG off) refuses to start without the secrets it needs, naming the missing variable; the test
settings (settings_test.py) set the secrets they use rather than loosening that check.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from dashboard.envparse import env_bool, env_csv, env_float, env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env_bool("DEBUG", default=False)


def _required(name: str, dev_default: str) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off; see README.md, 'Configuration'."
    )


# A fixed dev key is fine: DEBUG-only, and it never signs anything that leaves the machine.
SECRET_KEY = _required("SECRET_KEY", "dev-insecure-tagscope-key-change-me-0123456789abcdefghijklmnop")

# Comma-separated Fernet keys, newest first. The dev key is a constant so `make run` can restart
# and still read what it stored; production must set its own.
TOKEN_ENCRYPTION_KEYS = env_csv(
    "TOKEN_ENCRYPTION_KEYS",
    default=[_required("TOKEN_ENCRYPTION_KEYS", "ZGV2LW9ubHktdGFnc2NvcGUta2V5LW5vdC1zZWNyZXQ=")],
)

ALLOWED_HOSTS = env_csv("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_csv(
    "CSRF_TRUSTED_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_q",
    "integrations",
    "dashboard",
]
if DEBUG:  # `make run`'s demo stack, sandbox and receiver commands (dashboard/devtools/)
    INSTALLED_APPS.append("dashboard.devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dashboard.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "dashboard.middleware.SecurityHeadersMiddleware",
    "dashboard.middleware.BadQueryMiddleware",
    "dashboard.middleware.MFARequiredMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "dashboard.sqlite3"  # Django's, converting placeholders faster (its module)
    # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", default=30),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            # sqlite3 keeps 128 prepared statements per connection by default, and a bulk write of each row
            # count is a statement of its own: with a connection per sync thread that was most of SQLite's
            # memory in a worker. The hot statements (the limiter's, the upserts) fit in far fewer.
            "cached_statements": env_int("SQLITE_CACHED_STATEMENTS", default=16),
        }
    )
elif env_bool("DATABASE_POOL", default=True):
    # A pool per process (psycopg_pool): a sync worker runs dozens of units on threads, and a thread gives
    # its connection back whenever it waits on HighLevel (integrations/db.py), so a few connections serve
    # them all and PostgreSQL's max_connections bounds processes, not threads.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": env_int("DATABASE_POOL_SIZE", default=8),
        "timeout": env_int("DATABASE_POOL_TIMEOUT", default=30),
    }
else:  # an external pooler (PgBouncer): Django's persistent connections instead
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite, a diagnostic (bench/agency.py sets it): each process sums how long its transactions held the write lock
# into a file in this directory (dashboard/sqlite3/write_hold.py). Empty: nothing is timed.
SQLITE_WRITE_HOLD_DIR = env_str("SQLITE_WRITE_HOLD_DIR", default="")

REDIS_URL = env_str("REDIS_URL", default="")
# Without Redis, on SQLite: the rate limiter's rings in files of their own beside the database file (one per
# location and app; integrations/clients/limiter_file.py), so a request's claim is no write transaction on
# the database. "off" keeps them in the database, as PostgreSQL without Redis does.
# (lower case: an upper-case name here would become a setting of its own)
_sqlite_file = (DATABASES["default"]["NAME"] if DATABASES["default"]["ENGINE"].endswith("sqlite3")
                and str(DATABASES["default"]["NAME"]) not in ("", ":memory:") else "")
RATE_LIMIT_DIRECTORY = env_str("RATE_LIMIT_DIR", default=f"{_sqlite_file}.ratelimit" if _sqlite_file else "")
if RATE_LIMIT_DIRECTORY.lower() == "off":
    RATE_LIMIT_DIRECTORY = ""

# --- Cache (shared across processes: django-q2's monitor and allauth's rate limits need it) -------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", default="tagscope"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tagscope_cache",
        }
    }

# --- django-q2 --------------------------------------------------------------------------------------
# Worker processes per qcluster, and the sync units each runs side by side (SYNC_UNITS_PER_TASK). On SQLite one
# qcluster is all there is and a process is one interpreter lock: 4 x 24 units kept both cores busier than
# 2 x 32 (200 locations: 168 and 183 s against 209 s, 151 MB a worker; 4 x 32 was no faster, 182 s). On
# PostgreSQL every process holds a pool of connections, so a machine runs 2 x 32 and the cluster grows by
# qcluster processes (docs/deploy.md). docs/performance.md, twelfth pass.
_WORKERS, _UNITS_PER_TASK = (4, 24) if _sqlite_file else (2, 32)
Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", default="tagscope"),
    "workers": env_int("Q_WORKERS", default=_WORKERS),
    "timeout": env_int("Q_TIMEOUT", default=600),
    # retry must exceed timeout, or a slow task is handed to a second worker while still running.
    "retry": env_int("Q_RETRY", default=660),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", default=3),
    "catch_up": False,
    "save_limit": env_int("Q_SAVE_LIMIT", default=2000),
    # A worker whose memory peaked above this (MB) after a task is replaced by a fresh fork: a batch of
    # sync units on dozens of threads leaves the heap fragmented, and the next batch would start from there.
    "max_rss": env_int("Q_MAX_RSS_MB", default=150) * 1024,
    "ack_failures": True,
    "poll": 0.5,
    "label": "Tasks",
    # Off on a cluster that should only work through the queue (the schedules then fire on the others).
    "scheduler": env_bool("Q_SCHEDULER", default=True),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# On: tasks run in the calling process instead of the broker (the test settings turn it on).
Q_CLUSTER["sync"] = env_bool("Q_SYNC", default=False)
# glibc malloc arenas per process (integrations/process_memory.py): a worker's hundreds of sync threads kept
# tens of MB freed but held in arenas of their own. 0: glibc's default (8 per core).
MALLOC_ARENA_MAX = env_int("MALLOC_ARENA_MAX", default=2, minimum=0)

# --- Auth: django-allauth, local accounts only --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_ADAPTER = "dashboard.accounts.ClosedSignupAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
# How many reverse proxies of ours stand in front of gunicorn, each appending to X-Forwarded-For. The client's
# address is the entry that many places from the right: allauth's login rate limits and the audit trail use
# it (dashboard/clientip.py). 0 (the default) trusts no header: REMOTE_ADDR. Too high lets a client choose
# its own address by sending X-Forwarded-For; see docs/deploy.md.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more, not {TRUSTED_PROXY_COUNT}.")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"

# TOTP secrets and recovery seeds encrypted at rest with TOKEN_ENCRYPTION_KEYS (dashboard/mfa.py).
MFA_ADAPTER = "dashboard.mfa.EncryptedMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "Tagscope"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Signed-in users without MFA are sent to set it up first; on by default outside DEBUG.
MFA_REQUIRED = env_bool("MFA_REQUIRED", default=not DEBUG)

# --- Email --------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Tagscope <tagscope@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Report mail bounces (dashboard/reports/bounces.py): each mail's envelope sender is
# <local>+<token>@<domain> of this address, and the worker reads DSNs from the mailbox (imaps://user:pass@host/INBOX
# or a maildir path) every five minutes. Unset: only refusals while sending are recorded.
REPORT_BOUNCE_ADDRESS = env_str("REPORT_BOUNCE_ADDRESS", default="")
REPORT_BOUNCE_MAILBOX = env_str("REPORT_BOUNCE_MAILBOX", default="")

# --- i18n / static ------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is the operator's call, not ours.
if DEBUG:
    SECURE_SSL_REDIRECT = False

# --- HighLevel ------------------------------------------------------------------------------------------
HIGHLEVEL_SANDBOX = env_bool("HIGHLEVEL_SANDBOX", default=False)
if HIGHLEVEL_SANDBOX and not DEBUG:
    # The sandbox signs app webhooks with a key derived from a seed anyone can read in the source: with it on,
    # anyone could forge an INSTALL or UNINSTALL.
    raise ImproperlyConfigured(
        "HIGHLEVEL_SANDBOX is on while DEBUG is off. The sandbox is a development tool whose webhook key comes "
        "from a public seed; unset HIGHLEVEL_SANDBOX in production."
    )
HIGHLEVEL_SANDBOX_URL = env_str("HIGHLEVEL_SANDBOX_URL", default="http://127.0.0.1:8765")
HIGHLEVEL_API_BASE_URL = env_str("HIGHLEVEL_API_BASE_URL", default="https://services.leadconnectorhq.com")
HIGHLEVEL_AUTHORIZE_URL = env_str(
    "HIGHLEVEL_AUTHORIZE_URL", default="https://marketplace.gohighlevel.com/v2/oauth/chooselocation"
)
if HIGHLEVEL_SANDBOX:
    HIGHLEVEL_API_BASE_URL = HIGHLEVEL_SANDBOX_URL
    HIGHLEVEL_AUTHORIZE_URL = f"{HIGHLEVEL_SANDBOX_URL}/oauth/chooselocation"
HIGHLEVEL_API_VERSION = env_str("HIGHLEVEL_API_VERSION", default="2021-07-28")
HIGHLEVEL_SOCIAL_API_VERSION = env_str("HIGHLEVEL_SOCIAL_API_VERSION", default="v3")
HIGHLEVEL_CLIENT_ID = env_str("HIGHLEVEL_CLIENT_ID", default="")
HIGHLEVEL_CLIENT_SECRET = env_str("HIGHLEVEL_CLIENT_SECRET", default="")
HIGHLEVEL_WEBHOOK_PUBLIC_KEY = env_str(
    "HIGHLEVEL_WEBHOOK_PUBLIC_KEY",
    # HighLevel's published Ed25519 key (webhook guide), in SPKI PEM.
    default=(
        "-----BEGIN PUBLIC KEY-----\n"
        "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\n"
        "-----END PUBLIC KEY-----\n"
    ),
)
HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY = env_str("HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY", default="")
# The seed `make run` serves the sandbox with; devstack hands its processes the webhook key derived from it.
HIGHLEVEL_SANDBOX_SEED = env_int("HIGHLEVEL_SANDBOX_SEED", default=1)
HIGHLEVEL_TIMEOUT = (
    env_float("HIGHLEVEL_CONNECT_TIMEOUT", default=5.0),
    env_float("HIGHLEVEL_READ_TIMEOUT", default=30.0),
)
HIGHLEVEL_MAX_RETRIES = env_int("HIGHLEVEL_MAX_RETRIES", default=5)
# HighLevel's published limits per app and resource (integrations/clients/limiters.py), and the longest a
# request waits for a slot before its job is rescheduled instead.
HIGHLEVEL_BURST_LIMIT = env_int("HIGHLEVEL_BURST_LIMIT", default=100)
HIGHLEVEL_BURST_WINDOW_SECONDS = env_float("HIGHLEVEL_BURST_WINDOW_SECONDS", default=10.0)
HIGHLEVEL_BURST_MARGIN_SECONDS = env_float("HIGHLEVEL_BURST_MARGIN_SECONDS", default=0.1)
HIGHLEVEL_DAILY_LIMIT = env_int("HIGHLEVEL_DAILY_LIMIT", default=200_000)
HIGHLEVEL_RATE_LIMIT_MAX_WAIT_SECONDS = env_float("HIGHLEVEL_RATE_LIMIT_MAX_WAIT_SECONDS", default=120.0)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", default="http://localhost:8000")
# `Authorization: Bearer <HEALTHZ_TOKEN>` shows /healthz's detail to a monitor that is not signed in; unset:
# only admins see it.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", default="")
# The OAuth redirect URI registered with the HighLevel app; unset: built from the request.
HIGHLEVEL_REDIRECT_URI = env_str("HIGHLEVEL_REDIRECT_URI", default="")

DESTINATION_ALLOWED_HOSTS = env_csv("DESTINATION_ALLOWED_HOSTS", default=[])

# --- Sync (integrations/sync/) ---------------------------------------------------------------------------
# Requests of one unit in flight at once; the shared rate limiter still paces them (integrations/sync/lanes.py).
SYNC_REQUEST_LANES = env_int("SYNC_REQUEST_LANES", default=8)
# At most this many units in one worker task, run side by side (integrations/sync/scheduling.py): units
# enqueued together go out in a batch per worker, so a few worker processes keep many locations busy.
SYNC_UNITS_PER_TASK = env_int("SYNC_UNITS_PER_TASK", default=_UNITS_PER_TASK)
# A batch whose unit ends takes the next queued unit of the same bulk run (so a worker is not left waiting
# on its batch's slowest unit) for this long after the task began; then it only finishes what it has, well
# within the task's timeout. 0: a batch runs its own units only.
SYNC_TAKE_QUEUED_SECONDS = env_int("SYNC_TAKE_QUEUED_SECONDS", default=Q_CLUSTER["timeout"] // 2)
# Off: lanes and batches run one after another in the worker's own thread (slower; for debugging).
SYNC_THREADS = env_bool("SYNC_THREADS", default=True)
# 181 days: a 90-day chart and the 90 days it is compared with, plus a day for locations west of UTC. Posts
# are mirrored as far back (integrations/sync/posts.py).
SYNC_STATISTICS_HORIZON_DAYS = env_int("SYNC_STATISTICS_HORIZON_DAYS", default=181)
SYNC_STATISTICS_REFETCH_DAYS = env_int("SYNC_STATISTICS_REFETCH_DAYS", default=3)
# Reach, comments and shares cost one request per day and account: asked for the most recent days only
# (at most the horizon; 0: never), at most SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN one-day requests per account
# and run (0: the whole breakdown horizon at once).
SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = env_int("SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS",
                                                 default=SYNC_STATISTICS_HORIZON_DAYS)
SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN = env_int("SYNC_STATISTICS_BREAKDOWN_DAYS_PER_RUN", default=0)
# A refresh someone asked for (the page, the API, `manage.py refresh`, a retry from Operations) gives up
# soon and says why: at most this many attempts, the first retry after this many seconds, doubling. With
# the defaults a HighLevel that answers only 5xx turns a click into `failed` in about 1 to 2.5 minutes.
# Scheduled refreshes keep their longer backoff (integrations/sync/runs.py).
SYNC_ON_DEMAND_ATTEMPTS = env_int("SYNC_ON_DEMAND_ATTEMPTS", default=3)
SYNC_ON_DEMAND_RETRY_SECONDS = env_int("SYNC_ON_DEMAND_RETRY_SECONDS", default=10)
if SYNC_ON_DEMAND_ATTEMPTS < 1 or SYNC_ON_DEMAND_RETRY_SECONDS < 1:
    raise ImproperlyConfigured("SYNC_ON_DEMAND_ATTEMPTS and SYNC_ON_DEMAND_RETRY_SECONDS must be at least 1.")
# A connection moved to statistics Version 2021-07-28 tries v3 again after this many days
# (integrations/connections/contract.py).
SYNC_STATISTICS_V3_REPROBE_DAYS = env_int("SYNC_STATISTICS_V3_REPROBE_DAYS", default=7)

# --- Alerts (integrations/alerts/) ---------------------------------------------------------------------
ALERT_CONSECUTIVE_FAILURES = env_int("ALERT_CONSECUTIVE_FAILURES", default=3)  # failed runs in a row
ALERT_TOKEN_EXPIRY_MINUTES = env_int("ALERT_TOKEN_EXPIRY_MINUTES", default=15)  # a token expiring this soon
ALERT_PIT_ROTATE_DAYS = env_int("ALERT_PIT_ROTATE_DAYS", default=90)  # a Private Integration token's lifetime
ALERT_PIT_WARNING_DAYS = env_int("ALERT_PIT_WARNING_DAYS", default=7)  # warn this long before it
ALERT_QUOTA_PERCENT = env_float("ALERT_QUOTA_PERCENT", default=80.0)  # of HighLevel's daily quota used
ALERT_RENOTIFY_HOURS = env_float("ALERT_RENOTIFY_HOURS", default=6.0)  # an open alert is mailed again after
# Goals and health (integrations/attention/): the anomaly threshold admins start from (robust standard
# deviations; Operations can change it), the least relative change that counts, when an account's expiry warns,
# how far back a failed post counts, how far ahead the schedule is looked at, and where pacing turns "at risk".
ANOMALY_THRESHOLD = env_float("ANOMALY_THRESHOLD", default=4.0)
ANOMALY_MIN_CHANGE_PCT = env_float("ANOMALY_MIN_CHANGE_PCT", default=30.0)
ACCOUNT_EXPIRY_WARNING_DAYS = env_int("ACCOUNT_EXPIRY_WARNING_DAYS", default=7)
POST_FAILED_LOOKBACK_HOURS = env_int("POST_FAILED_LOOKBACK_HOURS", default=24)
SCHEDULE_AHEAD_DAYS = env_int("SCHEDULE_AHEAD_DAYS", default=7)
GOAL_AT_RISK_PCT = env_float("GOAL_AT_RISK_PCT", default=85.0)

# --- Retention (integrations/retention/: the nightly `tagscope.prune`; docs/deploy.md, "Retention") -------
# Days each kind of row is kept. The minimums keep what pages and alerts read: 7 days of runs and the last 3 of each
# location and kind, 24 hours of raw calls (older days of calls come from the daily rollup, which is kept).
RETENTION_API_CALLS_DAYS = env_int("RETENTION_API_CALLS_DAYS", default=14, minimum=2)
RETENTION_SYNC_RUNS_DAYS = env_int("RETENTION_SYNC_RUNS_DAYS", default=90, minimum=8)
RETENTION_SYNC_RUNS_KEEP = env_int("RETENTION_SYNC_RUNS_KEEP", default=20, minimum=3)  # per location and kind
RETENTION_EVENTS_DAYS = env_int("RETENTION_EVENTS_DAYS", default=30, minimum=1)  # once the fan-out has read them
RETENTION_DELIVERIES_DAYS = env_int("RETENTION_DELIVERIES_DAYS", default=30, minimum=1)  # attempts, finished ones
RETENTION_INBOUND_WEBHOOKS_DAYS = env_int("RETENTION_INBOUND_WEBHOOKS_DAYS", default=30, minimum=1)
RETENTION_AUDIT_DAYS = env_int("RETENTION_AUDIT_DAYS", default=400, minimum=30)
RETENTION_ALERTS_DAYS = env_int("RETENTION_ALERTS_DAYS", default=180, minimum=8)  # resolved alerts
RETENTION_FAILED_TASKS_DAYS = env_int("RETENTION_FAILED_TASKS_DAYS", default=30, minimum=1)  # django-q2 failures
# Rows per DELETE: each batch is its own short transaction, so the sync's writers get in between.
PRUNE_BATCH_SIZE = env_int("PRUNE_BATCH_SIZE", default=2000, minimum=100)
PRUNE_HOUR_UTC = env_int("PRUNE_HOUR_UTC", default=3, minimum=0)
if PRUNE_HOUR_UTC > 23:
    raise ImproperlyConfigured(f"PRUNE_HOUR_UTC must be an hour from 0 to 23, not {PRUNE_HOUR_UTC}.")

# --- Logging --------------------------------------------------------------------------------------------
LOG_FORMAT = env_str("LOG_FORMAT", default="text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOG_LEVEL = env_str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "dashboard.logging.RedactSecretsFilter"},
        "context": {"()": "dashboard.logging.ContextFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "dashboard.logging.JsonFormatter"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        },
        # runserver's access log: Django's own handler for it has no filter, and a callback's URL holds the
        # OAuth code.
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server" if LOG_FORMAT == "text" else LOG_FORMAT,
            "filters": ["context", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
