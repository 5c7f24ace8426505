"""Settings for the Loop store uptime monitor.

One module, read from the environment, with safe defaults for a local run:
with nothing set the service runs on an SQLite file under ``var/`` with the
ORM broker. ``DEBUG`` is off unless asked for: a forgotten variable must not
turn a server into a development one that prints tracebacks. ``make run``
and the test settings (``tests/settings.py``) set ``DEBUG=1``. Production sets
``DATABASE_URL`` (PostgreSQL through psycopg 3), ``SECRET_KEY`` and
``ALLOWED_HOSTS``; behind a TLS-terminating proxy also
``TRUST_X_FORWARDED_PROTO=1``, and once every subdomain serves HTTPS the
HSTS opt-ins. ``manage.py check --deploy`` is clean then.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LOOPMONITOR_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
_INSECURE_DEV_KEY = "django-insecure-local-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _INSECURE_DEV_KEY if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off (for a local run, set DEBUG=1)")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "loopmonitor.admin_app.AdminConfig",  # the admin, its modules loaded with the URLs (see there)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "import_export",
    "organizations",
    "stores",
    "ingestion",
    "reports",
    "operations",
]
# Development tooling (generator, benchmarks, chaos, load test, demo server):
# never in a production deployment's `manage.py help`.
DEVTOOLS = env_bool("LOOPMONITOR_DEVTOOLS", DEBUG)
if DEVTOOLS:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "loopmonitor.request_log.RequestLogMiddleware",
    "loopmonitor.exceptions.JsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "loopmonitor.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "loopmonitor.wsgi.application"

# A qcluster worker runs one task per shard and keeps its connection between
# them: a new one (a forked backend with cold caches) cost ~70 ms a task. Not
# the web server: runserver serves each request on a thread of its own, whose
# persistent connection would outlive it (60 polling clients exhausted
# PostgreSQL's 100 connections).
RUNS_WORKERS = sys.argv[1:2] == ["qcluster"]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60 if RUNS_WORKERS else 0),
        conn_health_checks=True,
    )
}
IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if IS_SQLITE:
    # WAL lets the web server read while the worker writes; the busy timeout
    # makes a writer wait for the lock instead of failing with
    # "database is locked"; IMMEDIATE transactions take the write lock up
    # front so two writers never deadlock upgrading a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests need a file, not Django's in-memory default: a live qcluster
    # subprocess and other threads open their own connections to it. One
    # file per test process, so two runs in one checkout never delete each
    # other's database; VAR_DIR is git-ignored, so a fresh clone lacks it.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

# A second connection to the same database, for a report's plan: it holds one
# snapshot open for reading while the default connection commits and queues
# each shard, so workers start on the first shard before the plan is over.
# It only reads: on SQLite a deferred transaction, which takes no write lock.
DATABASES["reader"] = {
    **DATABASES["default"],
    "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), **({"transaction_mode": "DEFERRED"} if IS_SQLITE else {})},
    "TEST": {"MIRROR": "default"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Uploads through the admin import screens: refuse anything larger than this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)

SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 3600)
# Opt-in: both commit every subdomain to HTTPS, and a preload is hard to undo.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Opt-in: trusting X-Forwarded-Proto is only safe behind a proxy that sets it
# on every request; reached directly, any client could claim HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None

# --- Production (issue 18): static files, logs, shared cache, throttles, health and metrics ---
# WhiteNoise serves `collectstatic`'s output, compressed and with hashed
# names (cached forever). The manifest only exists after `collectstatic`, so
# a DEBUG run (`make run`, the tests) keeps the plain storage and the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Without DEBUG (gunicorn), WhiteNoise answers /static/ itself; with it, runserver does.
if not DEBUG:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
# Load balancers probe over plain HTTP; a loopback Prometheus scrapes gunicorn directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]

# One line per request (loopmonitor.request_log); LOG_FORMAT=json makes every line a JSON object.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "loopmonitor.request_log.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "text"}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The request log line replaces Django's own "Not Found: /x" warnings.
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Throttle counters and django-q2's cluster stats must be shared by every
# process (gunicorn workers, qcluster): Redis when REDIS_URL is set, else the
# database (the cache's table, made by the `operations` app's first migration;
# the throttles count in a table of their own, see operations/throttling.py).
CACHES = {
    "default": {
        **(
            {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
            if os.environ.get("REDIS_URL")
            else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "loopmonitor_cache"}
        ),
        # Several deployments (or test runs) may share one Redis.
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
    }
}
THROTTLE_RATES = {
    "anon": os.environ.get("THROTTLE_ANON_RATE", "120/min"),
    "user": os.environ.get("THROTTLE_USER_RATE", "1200/min"),
    "trigger_report": os.environ.get("TRIGGER_REPORT_RATE", "60/min"),
}
# /metrics: `Authorization: Bearer $METRICS_TOKEN`, or a loopback client that no proxy forwarded.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# A worker cluster whose stats are older than this makes /readyz fail.
READYZ_CLUSTER_SEEN_SECONDS = env_int("READYZ_CLUSTER_SEEN_SECONDS", 60)
# --- end of the production block ---

# django-q2: the ORM broker by default (works on SQLite for the demo and, on
# PostgreSQL, acknowledges tasks so a crashed worker's task is retried);
# Redis when REDIS_URL is set. `retry` must exceed `timeout`, which must
# exceed the longest report.
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_WORKERS = env_int("Q_WORKERS", 1 if IS_SQLITE else (os.cpu_count() or 1))
# A task running longer than this is killed by the cluster (django-q2's timeout).
Q_TIMEOUT = env_int("Q_TIMEOUT", 300)
# Successful task records kept by the daily prune (failures are all kept).
TASK_SUCCESSES_KEPT = env_int("TASK_SUCCESSES_KEPT", 1000)
Q_CLUSTER: dict[str, object] = {
    "name": os.environ.get("Q_CLUSTER_NAME", "loopmonitor"),
    "workers": Q_WORKERS,
    # A task is one shard (about a second per 2,000 stores), a plan or an assembly.
    "timeout": Q_TIMEOUT,
    "retry": env_int("Q_RETRY", 360),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    "ack_failures": True,
    "catch_up": False,
    # Every success is saved and none pruned by the cluster: django-q2 prunes
    # after each task at a cost that grows with the records kept
    # (loopmonitor.task_results); the daily prune keeps the newest TASK_SUCCESSES_KEPT.
    "save_limit": 0,
    # Seconds between looks at an empty database queue where the broker polls
    # (SQLite, or Q_LISTEN off): every hop of a report waits half of it on average.
    "poll": env_float("Q_POLL", 0.05),
    "sync": env_bool("Q_SYNC", False),
}
# On PostgreSQL the database broker's pusher waits for a NOTIFY sent with
# each queued task instead of polling (loopmonitor.broker); it still looks
# every Q_POLL_LISTENING seconds for a task whose lease ran out. Q_LISTEN=false
# (a pooler that drops LISTEN) keeps the polling.
Q_LISTEN = env_bool("Q_LISTEN", True)
Q_POLL_LISTENING = env_float("Q_POLL_LISTENING", 1.0)
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "loopmonitor.broker.ListeningORM"

# Stores per chunk in a report: three queries per chunk; memory grows with it.
REPORT_CHUNK_SIZE = env_int("REPORT_CHUNK_SIZE", 1000)

# Fan-out: a report's stores are cut into shards of this many stores, each a
# django-q2 task. A worker renews its claim (of a plan, a shard, an assembly)
# every third of the lease while it works; a claim not renewed for the lease
# is presumed abandoned (its worker died) and queued again, at most
# MAX_ATTEMPTS claims. So a dead worker costs about the lease, a slow one nothing.
REPORT_SHARD_SIZE = env_int("REPORT_SHARD_SIZE", 2000)
REPORT_SHARD_LEASE_SECONDS = env_int("REPORT_SHARD_LEASE_SECONDS", 15)
REPORT_SHARD_MAX_ATTEMPTS = env_int("REPORT_SHARD_MAX_ATTEMPTS", 3)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns an anonymous call into a 401, not a 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "operations.throttling.AnonRateThrottle",
        "operations.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "EXCEPTION_HANDLER": "loopmonitor.exceptions.json_exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loop store uptime monitor",
    "DESCRIPTION": "Trigger an uptime report, poll until it is complete, download the CSV.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are for API users: drf-spectacular serves them to anyone by default.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# A report unfinished this long after its trigger ends Failed, whatever happened.
REPORT_DEADLINE_SECONDS = env_int("REPORT_DEADLINE_SECONDS", 1800)
# Backpressure: with this many reports unfinished, a trigger is refused (503) with a Retry-After of this many seconds.
REPORT_MAX_UNFINISHED = env_int("REPORT_MAX_UNFINISHED", 20)
REPORT_BUSY_RETRY_AFTER_SECONDS = env_int("REPORT_BUSY_RETRY_AFTER_SECONDS", 10)
REPORT_RETENTION_DAYS = env_int("REPORT_RETENTION_DAYS", 30)

# The hourly feed (README, "The hourly feed"): the ingestion API's limits,
# the inbox a schedule loads, and how long polls are kept, counted back from
# the newest poll. A daily schedule enforces both retentions.
INGEST_INLINE_MAX_BYTES = env_int("INGEST_INLINE_MAX_BYTES", 5 * 1024 * 1024)
INGEST_MAX_UPLOAD_BYTES = env_int("INGEST_MAX_UPLOAD_BYTES", 250 * 1024 * 1024)
INGEST_INBOX = os.environ.get("INGEST_INBOX", "")
INGEST_INBOX_SETTLE_SECONDS = env_int("INGEST_INBOX_SETTLE_SECONDS", 30)
# Without PostgreSQL's advisory locks, an inbox run this old whose file is still in processing/ is presumed
# abandoned: the cluster has killed any task older than its timeout.
INGEST_INBOX_LEASE_SECONDS = env_int("INGEST_INBOX_LEASE_SECONDS", Q_TIMEOUT)
POLL_RETENTION_DAYS = env_int("POLL_RETENTION_DAYS", 35)


# --- Owner portal (issue 14): server-rendered pages at / for members, logged in with Django's auth views.
# The admin keeps its own login page (admin:login); LOGIN_URL is where the portal's pages send a visitor.
INSTALLED_APPS.append("portal")
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
# --- end of the owner portal's settings

# --- Scheduled delivery (issue 16): subscriptions send period reports by email and by signed webhook.
INSTALLED_APPS.append("subscriptions")
# Where links in emails and webhooks point (workers build them without a request).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Email through Django's framework, configured with Django's own names; the console backend without a host.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Loop uptime reports <reports@localhost>")
EMAIL_BACKEND = (
    "subscriptions.mail_backend.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
# A report's CSV is attached up to this size, linked (signed, SIGNED_DOWNLOAD_DAYS) above it.
DELIVERY_ATTACH_MAX_BYTES = env_int("DELIVERY_ATTACH_MAX_BYTES", 5 * 1024 * 1024)
SIGNED_DOWNLOAD_DAYS = env_int("SIGNED_DOWNLOAD_DAYS", 7)
# A failed attempt is tried again after each of these delays in turn (1 min, 5 min, 30 min, 2 h, 6 h),
# then the delivery is marked failed.
DELIVERY_RETRY_SECONDS = [int(s) for s in env_list("DELIVERY_RETRY_SECONDS", ["60", "300", "1800", "7200", "21600"])]
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10)
# Development and tests only: allow http:// and private, loopback and link-local webhook addresses.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_PREVIOUS_SECRET_HOURS = env_int("WEBHOOK_PREVIOUS_SECRET_HOURS", 24)
# --- end of scheduled delivery's settings
