"""The one settings module. Everything that differs between machines comes from the environment
through the strict parsers in ``cs_project.env``; see the configuration reference in README.md.
"""

from __future__ import annotations

from datetime import timedelta

import django_stubs_ext
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from cs_project import embedded_postgres
from cs_project.bootstrap import (
    BASE_DIR,
    debug,
    embedded_postgres_port,
    embedded_redis_port,
    uses_embedded_postgres,
    uses_embedded_redis,
    var_dir,
)
from cs_project.env import (
    EnvError,
    env_bool,
    env_choice,
    env_database,
    env_im_id,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_time_zone,
    env_url,
)

# Lets typed code write ModelAdmin[Seat], QuerySet[Seat] etc. at run time.
django_stubs_ext.monkeypatch()

VAR_DIR = var_dir()

DEBUG = debug()  # the same reading the entry points made (cs_project.bootstrap)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else None)
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise EnvError("DJANGO_SECRET_KEY", "must be a random string of at least 50 characters when DJANGO_DEBUG is off")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else None)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The base URL at which the IM server reaches our callbacks and customers reach the rating form.
CS_PUBLIC_URL = env_url("CS_PUBLIC_URL", default="http://127.0.0.1:8000" if DEBUG else None)

# Wildfire IM. The admin secret defaults to Wildfire's own release value only in development.
WFC_ROBOT_API_URL = env_url("WFC_ROBOT_API_URL", default="http://127.0.0.1:8880")
WFC_ADMIN_API_URL = env_url("WFC_ADMIN_API_URL", default="http://127.0.0.1:18080")
# Who holds the IM admin secret: "direct" (this server) or "app_server" (a separate App Server
# process, robots/appserver, that this server asks over HMAC-signed HTTP; see docs/wildfire.md).
CS_IM_ADMIN_MODE = env_choice("CS_IM_ADMIN_MODE", choices=("direct", "app_server"), default="direct")
if CS_IM_ADMIN_MODE == "app_server":
    WFC_ADMIN_SECRET = env_str("WFC_ADMIN_SECRET", default="")
    CS_APP_SERVER_URL = env_url("CS_APP_SERVER_URL", default="http://127.0.0.1:8890")
    CS_APP_SERVER_KEY = env_str("CS_APP_SERVER_KEY")
    if len(CS_APP_SERVER_KEY) < 32:
        raise EnvError("CS_APP_SERVER_KEY", "must be at least 32 characters")
else:
    WFC_ADMIN_SECRET = env_str("WFC_ADMIN_SECRET", default="123456" if DEBUG else None)
    CS_APP_SERVER_URL = ""
    CS_APP_SERVER_KEY = ""
CS_ROBOT_ID = env_im_id("CS_ROBOT_ID", default="cs_robot")
# Befriend each customer's shadow and its servicer (/admin/friend/status) before the shadow's first
# message. Wildfire's message.disable_stranger_chat exempts robots (isAllowUserMessage), so no server
# we know needs it; it only fills servicers' contact lists. On for a server that refuses robots (248).
CS_BEFRIEND_SHADOWS = env_bool("CS_BEFRIEND_SHADOWS", default=False)
# What a servicer sends to a customer's shadow in the IM app to get that customer's history
# (sessions_app.flow.im_history); the whole message, trimmed, must equal it. Never relayed.
CS_HISTORY_COMMAND = env_str("CS_HISTORY_COMMAND", default="历史")
if len(CS_HISTORY_COMMAND) > 32:
    raise EnvError("CS_HISTORY_COMMAND", "must be at most 32 characters")
# Optional remote auto-answer endpoint (bot mode); empty means the built-in FAQ matcher only.
CS_AUTOANSWER_URL = env_url("CS_AUTOANSWER_URL", default="") if env_str("CS_AUTOANSWER_URL", default="") else ""
# The whole exchange with it (connect, send, read) ends within this, and its body may not exceed
# the size below (read as a stream); past either, the FAQ answers (sessions_app.flow.autoanswer).
CS_AUTOANSWER_TIMEOUT = env_int("CS_AUTOANSWER_TIMEOUT_SECONDS", default=3, minimum=1, maximum=30)
CS_AUTOANSWER_MAX_BODY_BYTES = env_int(
    "CS_AUTOANSWER_MAX_BODY_BYTES", default=64 * 1024, minimum=1024, maximum=1024 * 1024
)
WFC_TIMEOUT_SECONDS = env_int("WFC_TIMEOUT_SECONDS", default=5, minimum=1, maximum=60)
# How long the outbox waits for the answer to a message it sent: longer than a paused IM server (a GC
# pause, an overloaded node) takes to answer, so that the answer comes and the message goes once.
# Without an answer the outcome is unknown: nothing more is sent until the server answers again.
WFC_SEND_TIMEOUT_SECONDS = env_int("WFC_SEND_TIMEOUT_SECONDS", default=30, minimum=1, maximum=300)
# The IM server's http.robot.rate_limit, same number and meaning: N requests per robot per 10 s (bursts
# of N, N/10 per second sustained). The outbox paces each robot to it; 0 turns client-side pacing off.
WFC_ROBOT_RATE_LIMIT = env_int("WFC_ROBOT_RATE_LIMIT", default=1000, minimum=0, maximum=2**31 - 1)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "channels",
    "cs_project",
    "robots",
    "seats",
    "sessions_app",
    "ratings",
]

MIDDLEWARE = [
    # First, so it sees every error page: none repeats a callback token (cs_project.error_pages).
    "cs_project.error_pages.error_page_redaction_middleware",
    "django.middleware.security.SecurityMiddleware",
    # Every page's Content-Security-Policy (cs_project.csp); a response that sets its own keeps it.
    "cs_project.csp.PageSocketCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after 5 failures for one username from one address, 15 minutes locked out.
# Counted in the shared Redis cache, so every web process sees the same count.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_int("CS_LOGIN_FAILURE_LIMIT", default=5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner in every process's log at start-up
# Proxies in front of us (1 behind nginx): the client's address is then taken from X-Forwarded-For,
# for lockouts and throttles alike. (AXES_IPWARE_PROXY_COUNT would need django-ipware, not installed.)
CS_TRUSTED_PROXY_COUNT = env_int("CS_TRUSTED_PROXY_COUNT", default=0, minimum=0, maximum=5)
AXES_CLIENT_IP_CALLABLE = "cs_project.throttling.client_address"

ROOT_URLCONF = "cs_project.urls"
ASGI_APPLICATION = "cs_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL only. Unset in development means the embedded server (cs_project.embedded_postgres);
# outside development it is required: a forgotten URL must stop start-up, never fall back.
EMBEDDED_POSTGRES_PORT = embedded_postgres_port()
EMBEDDED_POSTGRES = uses_embedded_postgres()
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        default=embedded_postgres.database_url(EMBEDDED_POSTGRES_PORT, VAR_DIR) if DEBUG else None,
        pool_max_size=env_int("DB_POOL_MAX_SIZE", default=10, minimum=1, maximum=200),
        # Nothing the product runs takes this long; 0 turns a limit off (e.g. for a long migration).
        statement_timeout_ms=env_int("DB_STATEMENT_TIMEOUT_MS", default=60_000, minimum=0, maximum=86_400_000),
        lock_timeout_ms=env_int("DB_LOCK_TIMEOUT_MS", default=15_000, minimum=0, maximum=86_400_000),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Error reports (the debug pages, mail to admins) cleanse callback tokens and URL passwords too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "cs_project.error_pages.SecretsReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "cs_project.error_pages.SecretsExceptionReporter"

# Redis: broker, channel layer and cache. Unset in development means the embedded server; required
# outside it (two hosts that forgot it would otherwise each run a broker of their own).
EMBEDDED_REDIS_PORT = embedded_redis_port()
EMBEDDED_REDIS = uses_embedded_redis()
REDIS_URL = env_url(
    "REDIS_URL",
    default=f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0" if DEBUG else None,
    schemes=("redis", "rediss", "unix"),
)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cs",
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "cs_project.channel_layer.BatchReceivingRedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's blocking
            # receive (BZPOPMIN, 5 s): an idle console's receive then timed out and its websocket died.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": "cs:channels",
            # All the consoles of one ASGI process share one queue, and its capacity (100 by default)
            # is for all of them together: one event to each of 200 consoles at once dropped a fifth.
            "capacity": 1000,
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None  # tasks report through the database, never through results
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task that runs away is stopped: a soft limit raises inside it (logged, the work is retried by its
# sweep), the hard one kills the child. The longest task (a sweep of 5,000 sessions) takes seconds.
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often a worker proves it is alive (healthz), and how old a proof may be.
CS_WORKER_HEARTBEAT_SECONDS = 10
CS_WORKER_HEARTBEAT_MAX_AGE = timedelta(seconds=45)
# Outbox delivery (robots/outbox.py): "stream", by the outbox_stream process, or "inline", in the
# thread that commits (in-process tests only). How long a deliverer's claim on a message lasts (a
# crashed deliverer's claim expires, then another sends it), and the longest back-off between tries.
CS_OUTBOX_DELIVERY = env_choice("CS_OUTBOX_DELIVERY", choices=("stream", "inline"), default="stream")
# How many messages the outbox_stream process has in flight at once, and how often it looks for due
# rows without being woken (rows retried after a back-off, a lost NOTIFY).
CS_OUTBOX_STREAM_CONCURRENCY = env_int("CS_OUTBOX_STREAM_CONCURRENCY", default=64, minimum=1, maximum=1024)
CS_OUTBOX_STREAM_POLL_SECONDS = 1.0
CS_OUTBOX_LEASE_SECONDS = env_int("CS_OUTBOX_LEASE_SECONDS", default=60, minimum=2, maximum=3600)
# A claim that expires while its send still waits for an answer lets another deliverer send it too;
# a deliverer gives a row back rather than send it with less claim left than the longest wait
# (robots.outbox.outbox_lease_left_for_a_send), so the lease leaves room for the work before a send.
CS_OUTBOX_LEASE_MARGIN_SECONDS = 5
if CS_OUTBOX_LEASE_SECONDS < WFC_TIMEOUT_SECONDS + WFC_SEND_TIMEOUT_SECONDS + CS_OUTBOX_LEASE_MARGIN_SECONDS:
    raise EnvError(
        "CS_OUTBOX_LEASE_SECONDS",
        f"must be at least WFC_TIMEOUT_SECONDS + WFC_SEND_TIMEOUT_SECONDS + {CS_OUTBOX_LEASE_MARGIN_SECONDS}, "
        f"{WFC_TIMEOUT_SECONDS + WFC_SEND_TIMEOUT_SECONDS + CS_OUTBOX_LEASE_MARGIN_SECONDS}",
    )
CS_OUTBOX_MAX_BACKOFF_SECONDS = env_int("CS_OUTBOX_MAX_BACKOFF_SECONDS", default=300, minimum=1, maximum=3600)
# After this many failed attempts a message is marked failed (visible in the admin, retryable): with
# the default back-off, about an hour of trying. Pacing waits (the rate limit) are not attempts.
CS_OUTBOX_MAX_ATTEMPTS = env_int("CS_OUTBOX_MAX_ATTEMPTS", default=20, minimum=1, maximum=1000)
# Who acts on a stored customer message (robots/callbacks.py): "request", the callback's own
# request before it answers, or "stream", the inbound_stream process (robots/inbound_stream.py),
# woken by the row's NOTIFY at commit, the callback answering as soon as the row is stored. In-process
# tests use "request". How many conversations that process drains at once (a database connection
# each), and how often it looks for due messages without being woken (retries, a lost NOTIFY).
CS_INBOUND_DRAIN = env_choice("CS_INBOUND_DRAIN", choices=("request", "stream"), default="stream")
CS_INBOUND_STREAM_CONCURRENCY = env_int("CS_INBOUND_STREAM_CONCURRENCY", default=6, minimum=1, maximum=64)
CS_INBOUND_STREAM_POLL_SECONDS = 2.0
CS_IDLE_SWEEP_SECONDS = env_int("CS_IDLE_SWEEP_SECONDS", default=30, minimum=2, maximum=3600)
# How long a seat whose last console connection dropped keeps taking new customers (seats.presence).
CS_PRESENCE_GRACE_SECONDS = env_int("CS_PRESENCE_GRACE_SECONDS", default=30, minimum=1, maximum=3600)
# The largest image or file a servicer may send from the console.
CS_UPLOAD_MAX_MB = env_int("CS_UPLOAD_MAX_MB", default=20, minimum=1, maximum=1024)


def _every(seconds: int, task: str) -> dict[str, object]:
    # A run that could not start within its interval is dropped: the next one does the same work.
    return {"task": task, "schedule": seconds, "options": {"expires": max(1, seconds - 1)}}


CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": _every(CS_WORKER_HEARTBEAT_SECONDS, "cs_project.tasks.worker_heartbeat"),
    "inbound-sweep": _every(10, "robots.tasks.inbound_sweep"),
    "queue-drain": _every(5, "sessions_app.tasks.queue_drain_task"),
    "idle-sweep": _every(CS_IDLE_SWEEP_SECONDS, "sessions_app.tasks.idle_sweep_task"),
    "presence-sweep": _every(15, "seats.tasks.presence_sweep_task"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_time_zone("CS_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, under the project's input policy (cs_project.json_input); uploads are multipart.
    "DEFAULT_PARSER_CLASSES": [
        "cs_project.api_parsers.CheckedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "cs_project.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Counted in the shared Redis cache (cs_project.throttling), per login or per client address.
    # The IM server's callbacks opt out (robots.apis); the rating form's rate lives here as well.
    "DEFAULT_THROTTLE_CLASSES": [
        "cs_project.throttling.AnonAddressThrottle",
        "cs_project.throttling.UserAddressThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("CS_THROTTLE_ANON", default="60/min"),
        "user": env_rate("CS_THROTTLE_USER", default="600/min"),
        "rating_form": env_rate("CS_THROTTLE_RATING_FORM", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wildfire customer service API",
    "DESCRIPTION": "The CS server's HTTP API: IM callbacks, console and history endpoints.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the sidecar package: served by us, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema maps every endpoint: supervisors (staff) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
}

# Production hardening: on whenever DEBUG is off, so `check --deploy` is clean there.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# No inline script or style, no plugins, never framed, forms only to us. Images from anywhere on
# http(s) or data: customers' pictures and avatars are on the IM server's media storage, wherever
# that is, and the console shows a picture's inline thumbnail first; an image cannot run script.
# connect-src gains the page's own ws(s) origin per request (cs_project.csp). Uploads served by
# the development media view keep their stricter sandbox policy (sessions_app.console.views).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "http:", "https:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# /healthz is probed by load balancers over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", default="INFO")
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise EnvError("DJANGO_LOG_LEVEL", f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
