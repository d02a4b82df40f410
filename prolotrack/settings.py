"""ProloTrack settings: one module, configured by environment variables.

Defaults run on a fresh machine (SQLite in ./data, DEBUG on). Production sets
PROLOTRACK_DEBUG=0, PROLOTRACK_SECRET_KEY and PROLOTRACK_ALLOWED_HOSTS; see
docs/OPERATIONS.md for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("PROLOTRACK_DEBUG", True)
DATA_DIR = Path(os.environ.get("PROLOTRACK_DATA_DIR", BASE_DIR / "data"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _test_sqlite_default() -> str:
    """The tests' database file: in /dev/shm (memory) where the machine has it, so the commits of the transactional
    and browser tests do not wait for a disk's fsync (about 5 ms each here; a test database need not survive a
    crash), named by this checkout so two checkouts never share one; else data/test.sqlite3."""
    shm = Path("/dev/shm")  # noqa: S108 - the test database only, named by this checkout
    if shm.is_dir() and os.access(shm, os.W_OK):
        import hashlib

        return str(shm / f"prolotrack-test-{hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:10]}.sqlite3")
    return str(DATA_DIR / "test.sqlite3")


SECRET_KEY = os.environ.get("PROLOTRACK_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("PROLOTRACK_SECRET_KEY must be set when PROLOTRACK_DEBUG=0.")
    # Development only: a key that is stable across restarts of one checkout, so sessions survive.
    SECRET_KEY = "dev-insecure-" + str(BASE_DIR)

ALLOWED_HOSTS = env_list("PROLOTRACK_ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("PROLOTRACK_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # django-ninja as an app: the API docs then use its bundled Swagger UI files, not a CDN the policy refuses.
    "ninja",
    "csp",
    "axes",
    # Second factor (docs/SECURITY.md): django-otp's framework and its TOTP plugin; recovery codes are our own device.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "prolotrack.core",
    "prolotrack.audit",
    "prolotrack.clinics",
    "prolotrack.accounts",
    "prolotrack.patients",
    "prolotrack.clinical",
    "prolotrack.imaging",
    "prolotrack.treatment",
    "prolotrack.outcomes",
    "prolotrack.messaging",
    "prolotrack.documents",
    "prolotrack.consent",
    "prolotrack.billing",
    "prolotrack.booking",
    "prolotrack.intake",
    "prolotrack.fhir",
    "prolotrack.research",
    "prolotrack.analytics",
    "prolotrack.demo",
    "prolotrack.ops",
    "django_tasks",
    "django_tasks_db",
    # SMART on FHIR: the OAuth 2.0 / OpenID Connect authorization server for /fhir (docs/SMART.md).
    "oauth2_provider",
    "prolotrack.smart",
]

MIDDLEWARE = [
    # First: the request id, the request in context for JSON log lines, the access line and the latency histogram.
    "prolotrack.ops.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files are not pages. CSP from django-csp; no-store and Permissions-Policy on every
    # answer (core/headers.py, docs/SECURITY.md "Browser hardening").
    "csp.middleware.CSPMiddleware",
    "prolotrack.core.headers.BrowserHardeningMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The JSON API's edge: 413 / 415 as JSON, Idempotency-Key on writes (clinics/api_edge.py).
    "prolotrack.clinics.api_edge.ApiEdgeMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "prolotrack.clinics.middleware.ClinicMiddleware",
    "prolotrack.clinics.middleware.IdleLogoutMiddleware",
    # Nothing but the second-factor pages until the session passed it (accounts/middleware.py).
    "prolotrack.accounts.middleware.SecondFactorMiddleware",
    # Axes last, as its documentation requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "prolotrack.urls"
WSGI_APPLICATION = "prolotrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "prolotrack" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "prolotrack.clinics.context_processors.clinic",
            ],
        },
    },
]

# Database: SQLite in DATA_DIR by default; DATABASE_URL switches (PostgreSQL is the supported alternative).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "prolotrack.sqlite3"),
            # Each server thread keeps its connection between requests (docs/PERFORMANCE.md, "Load"): opening one ran
            # the four pragmas below and registered Django's SQL functions on every request, 8 % of the server's time
            # under the load test. Health checks drop a broken connection before a request uses it.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL for concurrent readers; synchronous=FULL because NORMAL can lose
                # committed transactions on power loss (docs/ARCHITECTURE.md, "Durability").
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
                ),
                # Writers take the lock at BEGIN, so read-then-write in one transaction cannot deadlock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests use a file, not SQLite's in-memory database: the browser tests' live server answers requests
            # in parallel, and only a file database waits on a lock (busy timeout) as production does.
            "TEST": {"NAME": os.environ.get("PROLOTRACK_TEST_SQLITE") or _test_sqlite_default()},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clinics.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock the username+address pair after repeated failures.
# Failed attempts and lockouts are rows in the database (axes' database handler, named here rather than left to its
# default), so every web process and app server sees the same lockouts (prolotrack/ops/tests/test_shared_cache.py).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("PROLOTRACK_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PROLOTRACK_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Second factor (accounts/services.py): the authenticator's label, and django-otp's exponential throttle (1, 2, 4, 8 s
# after consecutive wrong codes). AXES_FAILURE_LIMIT wrong codes in a row lock the second factor for AXES_COOLOFF_TIME.
OTP_TOTP_ISSUER = os.environ.get("PROLOTRACK_TOTP_ISSUER", "ProloTrack")
OTP_TOTP_THROTTLE_FACTOR = 1

# Sessions end with the browser and after the idle timeout (clinic setting, enforced by IdleLogoutMiddleware).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en"
# The languages patients are served in (pages and messages they see; staff pages are English): docs/BOOKING.md and
# the i18n docs. A patient's preferred language (Patient.preferred_language) is one of these.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "prolotrack" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "prolotrack" / "static"]
MEDIA_ROOT = DATA_DIR / "files"

# Audit trail keys and checkpoints, outside the database (docs/SECURITY.md "Audit trail", docs/OPERATIONS.md). Missing
# key files are created once with random keys; production keeps them off the database host.
AUDIT_KEY_FILE = os.environ.get("PROLOTRACK_AUDIT_KEY_FILE") or str(DATA_DIR / "keys" / "audit-chain-keys.json")
AUDIT_SIGNING_KEY_FILE = os.environ.get("PROLOTRACK_AUDIT_SIGNING_KEY_FILE") or str(
    DATA_DIR / "keys" / "audit-checkpoint-ed25519.pem"
)
AUDIT_VERIFY_KEY_FILE = os.environ.get("PROLOTRACK_AUDIT_VERIFY_KEY_FILE", "")
AUDIT_CHECKPOINT_DIR = os.environ.get("PROLOTRACK_AUDIT_CHECKPOINT_DIR") or str(DATA_DIR / "audit-checkpoints")
AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("PROLOTRACK_AUDIT_CHECKPOINT_MINUTES", "60"))


def _file_storage() -> dict[str, Any]:
    """Where stored files go (prolotrack/core/filestore.py: written once under their SHA-256, never overwritten).

    A local folder (MEDIA_ROOT, read when used, so a test's MEDIA_ROOT applies) by default; an S3-compatible bucket through django-storages when
    PROLOTRACK_S3_BUCKET is set (docs/OPERATIONS.md, "Files").
    """
    bucket = os.environ.get("PROLOTRACK_S3_BUCKET", "")
    if not bucket:
        return {
            "BACKEND": "prolotrack.core.filestore.DurableFileSystemStorage",
            "OPTIONS": {
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": os.environ.get("PROLOTRACK_S3_PREFIX", "").strip("/"),
        "file_overwrite": False,  # never replace an object; filestore.put checks first anyway
        "default_acl": None,  # the bucket's own policy (private); no public-read objects
        "querystring_auth": True,
        # A file read from the bucket (a serve, a hash check, a backup) is spooled to a temporary file past 8 MiB, not
        # held whole in memory (django-storages' default, 0, never spills): memory stays flat for large exports.
        "max_memory_size": 8 * 1024 * 1024,
    }
    for variable, option in (
        ("PROLOTRACK_S3_ENDPOINT_URL", "endpoint_url"),
        ("PROLOTRACK_S3_REGION", "region_name"),
        ("PROLOTRACK_S3_ACCESS_KEY_ID", "access_key"),
        ("PROLOTRACK_S3_SECRET_ACCESS_KEY", "secret_key"),
    ):
        if os.environ.get(variable):
            options[option] = os.environ[variable]
    if os.environ.get("PROLOTRACK_S3_SSE"):
        options["object_parameters"] = {"ServerSideEncryption": os.environ["PROLOTRACK_S3_SSE"]}
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    "default": _file_storage(),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Production hardening: on unless DEBUG; each can be relaxed behind a TLS-terminating proxy by env.
SECURE_SSL_REDIRECT = env_bool("PROLOTRACK_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("PROLOTRACK_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("PROLOTRACK_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("PROLOTRACK_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles from this origin only, or inline with the request's nonce
# (`{{ request.csp_nonce }}`); no eval, no plugins, no framing, no <base>. Pages, the API docs and the patient
# questionnaire all run under it; the browser tests fail on any violation (docs/SECURITY.md, "Browser hardening").
# form-action is left out on purpose: an OAuth authorization form answers with a redirect to the registered app's
# own address, which form-action would block in Chromium.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:", "blob:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
    }
}
if env_bool("PROLOTRACK_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Number of proxies in front of the app whose X-Forwarded-For entries are trusted for the audit trail's client address.
PROLOTRACK_TRUSTED_PROXY_COUNT = int(os.environ.get("PROLOTRACK_TRUSTED_PROXY_COUNT", "0"))

# Largest image file accepted for imaging review (the proxy should cap request size at or above this too).
PROLOTRACK_MAX_UPLOAD_MB = int(os.environ.get("PROLOTRACK_MAX_UPLOAD_MB", "20"))

# Email to patients (docs/MESSAGING.md). PROLOTRACK_EMAIL_HOST switches to SMTP; without it, messages are written as
# .eml files under DATA_DIR/outbox/email (the demo's outbox). PROLOTRACK_EMAIL_BACKEND overrides both.
EMAIL_HOST = os.environ.get("PROLOTRACK_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("PROLOTRACK_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("PROLOTRACK_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PROLOTRACK_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("PROLOTRACK_EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("PROLOTRACK_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("PROLOTRACK_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("PROLOTRACK_EMAIL_FROM", "ProloTrack <no-reply@localhost>")
EMAIL_FILE_PATH = DATA_DIR / "outbox" / "email"
EMAIL_BACKEND = os.environ.get(
    "PROLOTRACK_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
# SMS: a dotted path to a class with send(message) (prolotrack/messaging/backends.py); no vendor is built in.
PROLOTRACK_SMS_BACKEND = os.environ.get("PROLOTRACK_SMS_BACKEND", "prolotrack.messaging.backends.FileSMSBackend")
# The address patients and calendars open links at (questionnaire links, feed events, feed addresses), without a
# trailing slash. `make run` (run_all.py) sets it from its HOST and PORT unless it is set (docs/OPERATIONS.md).
PROLOTRACK_SITE_URL = os.environ.get("PROLOTRACK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The cache: a table in the app's own database (`manage.py createcachetable`, run by `make run` and in deployment,
# docs/OPERATIONS.md), so counts kept in it, such as failed questionnaire-link lookups per address, survive a restart
# and are shared by every web process and every app server. PROLOTRACK_CACHE_LOCATION renames the table. CACHE_URL
# (redis://host:6379/0, rediss:// for TLS; Valkey speaks the same protocol) switches to Django's RedisCache instead.
# Never a per-process cache: a second app server would not see the first one's counts.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL and CACHE_URL.split("://", 1)[0] not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis://, rediss:// or unix:// address, not {CACHE_URL!r}.")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": os.environ.get("PROLOTRACK_CACHE_LOCATION", "prolotrack_cache"),
        }
    )
}

# Background work (bulk export, document generation) through the Django tasks API (django-tasks backport). The
# database backend queues tasks in the app's own database; `manage.py db_worker` runs them (`make run` starts one).
# PROLOTRACK_TASKS_IMMEDIATE=1 runs them inline, as the tests do.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("PROLOTRACK_TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# Logs: one JSON object per line (ops/logs.py) with the request id, user id and clinic id, never patient data;
# PROLOTRACK_LOG_FORMAT=text for plain lines on a developer's terminal.
LOG_FORMAT = os.environ.get("PROLOTRACK_LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"PROLOTRACK_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "prolotrack.ops.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "prolotrack.ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("PROLOTRACK_LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools log every CSS step and font subset at INFO.
    "loggers": {
        # Django's request warnings through the same JSON handler (its default one prints plain lines when DEBUG).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
    },
}


# SMART on FHIR (docs/SMART.md): django-oauth-toolkit with OpenID Connect. The id_token signing key (RSA, PEM) comes
# from PROLOTRACK_OIDC_KEY_FILE (default DATA_DIR/oidc-signing-key.pem), made on first start when the file is missing.
def _oidc_key() -> str:
    path = Path(os.environ.get("PROLOTRACK_OIDC_KEY_FILE", DATA_DIR / "oidc-signing-key.pem"))
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Written whole under a private name, then linked into place only if nothing is there: processes starting
        # together on a fresh data folder (gunicorn, the scheduler, the worker) read the one key that won, never a
        # half-written file (audit/keys.py does the same).
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text()


# django-oauth-toolkit's own models (named so migrations that point at them resolve).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105 - a model name

OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "prolotrack.smart.oauth.SmartValidator",
    "SCOPES_BACKEND_CLASS": "prolotrack.smart.oauth.SmartScopes",
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_key(),
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only: "plain" is refused
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ROTATE_REFRESH_TOKEN": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if DEBUG else ["https"],
    "REQUEST_APPROVAL_PROMPT": "force",
    # Backend services get five-minute tokens (SMART Backend Services: "no longer than 5 minutes"); apps an hour.
    "EXTRA_SERVER_KWARGS": {
        "token_expires_in": lambda request: 300 if request.grant_type == "client_credentials" else 3600
    },
}

# /metrics for Prometheus answers only with `Authorization: Bearer <this>`; empty = the endpoint answers 404.
PROLOTRACK_METRICS_TOKEN = os.environ.get("PROLOTRACK_METRICS_TOKEN", "")

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200
