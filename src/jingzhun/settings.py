"""Settings, read from environment variables only (see README "Configuration")."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
TESTING = "pytest" in sys.modules or os.environ.get("JINGZHUN_TESTING") == "1"


def env_str(name: str, default: str | None = None) -> str:
    """Return an environment variable, or the default, or fail clearly."""
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """Return an environment variable read as a boolean (1/true/yes/on)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Return an environment variable read as an integer."""
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated environment variable as a list."""
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_secret(name: str, *, test_default: str) -> str:
    """Return a secret; only the test suite may run without one."""
    value = os.environ.get(name)
    if value:
        return value
    if TESTING:
        return test_default
    raise ImproperlyConfigured(
        f"Set the environment variable {name} (see README, 'Configuration'; "
        f"`make demo` writes development values to var/demo.env)."
    )


DEBUG = env_bool("JINGZHUN_DEBUG")
SECRET_KEY = env_secret("JINGZHUN_SECRET_KEY", test_default="test-secret-key-not-for-production")
ALLOWED_HOSTS = env_list("JINGZHUN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("JINGZHUN_CSRF_TRUSTED_ORIGINS")
VAR_DIR = Path(os.environ.get("JINGZHUN_VAR_DIR", PROJECT_DIR / "var"))

# Field encryption: "1:<base64 32 bytes>,2:<base64 32 bytes>"; the highest version encrypts.
FIELD_ENCRYPTION_KEYS = env_secret(
    "JINGZHUN_FIELD_KEYS",
    test_default="1:dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=",
)
BLIND_INDEX_KEY = env_secret(
    "JINGZHUN_BLIND_INDEX_KEY", test_default="dGVzdC1ibGluZC1pbmRleC1rZXktdGVzdC1ibGluZA=="
)
# Audit log: each event's hash is an HMAC-SHA256 under this key (base64, 32 bytes or more),
# which the database does not hold; signed checkpoints (count, last id, last hash) are appended
# to a file outside the database every AUDIT_CHECKPOINT_EVERY events and by `audit-checkpoint`.
AUDIT_KEY = env_secret(
    "JINGZHUN_AUDIT_KEY", test_default="dGVzdC1hdWRpdC1jaGFpbi1rZXktdGVzdC1hdWRpdC0="
)
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("JINGZHUN_AUDIT_CHECKPOINT_FILE", VAR_DIR / "audit-checkpoints.jsonl")
)
AUDIT_CHECKPOINT_EVERY = max(1, env_int("JINGZHUN_AUDIT_CHECKPOINT_EVERY", 1000))

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",  # two-factor login (jingzhun.accounts.two_factor)
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the bundled Swagger UI for /api/docs (no CDN)
    "jingzhun.core",
    "jingzhun.accounts",
    "jingzhun.registry",
    "jingzhun.schools",
    "jingzhun.identification",
    "jingzhun.funds",
    "jingzhun.aid",
    "jingzhun.duty",
    "jingzhun.teachers",
    "jingzhun.projects",
    "jingzhun.oversight",
    "jingzhun.dashboard",
    "jingzhun.demo",
]

MIDDLEWARE = [
    # First, so that every later step sees the client's address (TRUSTED_PROXY_HEADER).
    "jingzhun.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jingzhun.core.middleware.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jingzhun.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: the listed pages kept per user while the data does not change (core.pagecache).
    "jingzhun.core.pagecache.PageCacheMiddleware",
]

ROOT_URLCONF = "jingzhun.urls"
WSGI_APPLICATION = "jingzhun.wsgi.application"
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
                "jingzhun.core.context_processors.working_period",
            ]
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'jingzhun.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_db))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("JINGZHUN_SQLITE_TIMEOUT", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    }
    # The test database is a file, not :memory:, so that WAL and a second process both apply.
    # One per process, so that two test runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("JINGZHUN_CONN_MAX_AGE", 60)
# Page cache of a connection doing a bulk import, in KiB (SQLite only).
SQLITE_BULK_CACHE_KIB = env_int("JINGZHUN_SQLITE_BULK_CACHE_KIB", 1024 * 1024)
# An import that has reported no progress for this long is taken as interrupted.
IMPORT_STALE_SECONDS = env_int("JINGZHUN_IMPORT_STALE_SECONDS", 600)
# A file with more than this share of rows in error is refused whole (a wrong mapping is more
# likely than that many bad rows); below it, good rows land and bad ones are set aside.
# The county's province as lists of study elsewhere write it (学校所在省份); default: the
# name the county code's first two digits give.
PROVINCE_NAME = env_str("JINGZHUN_PROVINCE_NAME", "")
IMPORT_MAX_BAD_PERCENT = env_int("JINGZHUN_IMPORT_MAX_BAD_PERCENT", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Password policy (等保 level 3): PASSWORD_MIN_LENGTH characters or more, three of the four
# kinds (lower, upper, digits, others), not close to nor containing the user name, not a common
# password, not all digits (jingzhun.accounts.passwords).
PASSWORD_MIN_LENGTH = max(8, env_int("JINGZHUN_PASSWORD_MIN_LENGTH", 10))
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "jingzhun.accounts.passwords.CharacterClassesValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "jingzhun.accounts.passwords.NotContainingUsernameValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/"
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)

# Login throttling, per account and per address separately (jingzhun.accounts.throttle): an
# account is locked after AXES_FAILURE_LIMIT failures from any addresses, an address after
# LOGIN_ADDRESS_FAILURE_LIMIT failures against any accounts, each for AXES_COOLOFF_TIME.
AXES_FAILURE_LIMIT = env_int("JINGZHUN_LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("JINGZHUN_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "jingzhun.accounts.throttle.AccountAndAddressHandler"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("JINGZHUN_STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("JINGZHUN_MEDIA_ROOT", VAR_DIR / "media"))
IMPORT_DIR = MEDIA_ROOT / "imports"
REPORT_DIR = MEDIA_ROOT / "reports"
# Uploads (jingzhun.core.uploads, docs/security.md): the largest file any form accepts; what an
# .xlsx may unpack to in all, and how much one large part of it may be compressed. A file up
# to the limit is held in memory while it is received (never written to disk in plain text);
# beyond it, nothing more of it is kept. Files of the default storage (case evidence) and the
# import store are sealed with the field keys (jingzhun.core.sealed).
UPLOAD_MAX_BYTES = max(1, env_int("JINGZHUN_UPLOAD_MAX_MB", 50)) * 1024 * 1024
XLSX_MAX_UNCOMPRESSED_BYTES = max(1, env_int("JINGZHUN_XLSX_MAX_UNCOMPRESSED_MB", 256)) << 20
XLSX_MAX_RATIO = max(10, env_int("JINGZHUN_XLSX_MAX_RATIO", 200))
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # form fields other than files (Django's default)
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_HANDLERS = [
    "jingzhun.core.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STORAGES = {
    "default": {"BACKEND": "jingzhun.core.sealed.SealedFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("JINGZHUN_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
# A refused CSRF check shows the site's own 403 page, in the user's language.
CSRF_FAILURE_VIEW = "jingzhun.core.errors.csrf_failure"

# Figures computed per run (home counts, coverage; jingzhun.core.cache), shared by the web
# workers with no extra service: files under the var directory (`file`, the default), or a
# table in the database (`db`, after `jingzhun createcachetable`); `off` computes every time
# (bench/load.py measures its baseline so). Tests keep them in local memory.
CACHE_KIND = env_str("JINGZHUN_CACHE", "locmem" if TESTING else "file")
_CACHE_BACKENDS = {
    "file": ("django.core.cache.backends.filebased.FileBasedCache", str(VAR_DIR / "cache")),
    "db": ("django.core.cache.backends.db.DatabaseCache", "jingzhun_cache"),
    "locmem": ("django.core.cache.backends.locmem.LocMemCache", "jingzhun"),
    "off": ("django.core.cache.backends.dummy.DummyCache", ""),
}
if CACHE_KIND not in _CACHE_BACKENDS:
    raise ImproperlyConfigured("JINGZHUN_CACHE is file, db, locmem or off.")
CACHES = {
    "default": {
        "BACKEND": _CACHE_BACKENDS[CACHE_KIND][0],
        "LOCATION": _CACHE_BACKENDS[CACHE_KIND][1],
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

# Pages kept whole per user and data version (jingzhun.core.pagecache): the county's home
# page, the coverage pages and the command centre's pages every leader opens each morning,
# opened again and again between changes of the data.
PAGE_CACHE_PATHS = frozenset(
    [
        "/",
        "/aid/coverage/",
        "/duty/coverage/",
        "/identification/coverage/",
        "/centre/coverage/",
        "/centre/coverage/trends/",
        "/centre/wall-chart/",
        "/centre/map/",
        "/centre/warning/",
    ]
)

# Background tasks: `db` (default, embedded: django-tasks-db, `jingzhun db_worker`) or `rq`
# (production at province scale: django-tasks-rq on Redis at JINGZHUN_REDIS_URL, workers
# `jingzhun rqworker --job-class django_tasks_rq.Job`). Tests run tasks immediately.
TASKS_BACKEND = env_str("JINGZHUN_TASKS_BACKEND", "db")
if TASKS_BACKEND not in ("db", "rq"):
    raise ImproperlyConfigured("JINGZHUN_TASKS_BACKEND is db or rq.")
REDIS_URL = env_str("JINGZHUN_REDIS_URL", "redis://127.0.0.1:6379/0")
# A county's run may take many minutes: RQ's job timeout (seconds) is generous.
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 4 * 3600}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("JINGZHUN_TASKS_IMMEDIATE", TESTING)
            else "django_tasks_rq.RQBackend"
            if TASKS_BACKEND == "rq"
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

LOG_DIR = VAR_DIR / "log"
LOG_DIR.mkdir(parents=True, exist_ok=True)
# Libraries' chatter (Splink's training, django-axes) goes to the log file, not to the
# terminal a clerk reads; the platform's own messages go to both.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / "jingzhun.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
            "formatter": "plain",
        },
    },
    # Under test they still reach the root, so that tests see every log line.
    "loggers": {
        name: {"handlers": ["file"], "level": "INFO", "propagate": TESTING}
        for name in ("splink", "axes", "duckdb")
    },
    "root": {
        "handlers": ["console", "file"],
        "level": os.environ.get("JINGZHUN_LOG_LEVEL", "INFO"),
    },
}
# No log line carries a whole ID or bank number: every handler blanks runs of 15 or more
# digits (jingzhun.core.redact), the development server's request lines included.
_logging: dict[str, Any] = LOGGING
_logging["filters"] = {"redact_numbers": {"()": "jingzhun.core.redact.RedactNumbers"}}
_logging["formatters"]["django.server"] = {
    "()": "django.utils.log.ServerFormatter",
    "format": "[{server_time}] {message}",
    "style": "{",
}
_logging["handlers"]["django.server"] = {
    "class": "logging.StreamHandler",
    "formatter": "django.server",
}
_logging["loggers"]["django.server"] = {
    "handlers": ["django.server"],
    "level": "INFO",
    "propagate": False,
}
for _handler in _logging["handlers"].values():
    _handler.setdefault("filters", []).append("redact_numbers")

UNFOLD = {
    "SITE_TITLE": _("Jingzhun"),
    "SITE_HEADER": _("Jingzhun · education precision poverty alleviation"),
    "SHOW_LANGUAGES": True,
    # Every app's pages, each shown only to users who may use it (jingzhun.core.navigation).
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": True,
        "navigation": "jingzhun.core.navigation.sidebar",
    },
    # The admin index is the home page: counts per township, scoped to the user.
    "DASHBOARD_CALLBACK": "jingzhun.dashboard.home.dashboard_callback",
}

NINJA_PAGINATION_PER_PAGE = 50

# Identification: links at or above AUTO (with names agreeing) are made automatically;
# from REVIEW up to AUTO they wait for a person's decision.
IDENTIFICATION_AUTO_THRESHOLD = float(os.environ.get("JINGZHUN_IDENT_AUTO_THRESHOLD", "0.99"))
IDENTIFICATION_REVIEW_THRESHOLD = float(os.environ.get("JINGZHUN_IDENT_REVIEW_THRESHOLD", "0.5"))
IDENTIFICATION_FUZZY = env_bool("JINGZHUN_IDENT_FUZZY", True)
# Splink's backend for the fuzzy stage: `duckdb` (default, in process) or `spark` (needs the
# `spark` extra, pyspark, and a Java runtime; JINGZHUN_SPARK_MASTER, default local[*]).
IDENTIFICATION_LINKAGE_BACKEND = env_str("JINGZHUN_LINKAGE_BACKEND", "duckdb")
if IDENTIFICATION_LINKAGE_BACKEND not in ("duckdb", "spark"):
    raise ImproperlyConfigured("JINGZHUN_LINKAGE_BACKEND is duckdb or spark.")
SPARK_MASTER = env_str("JINGZHUN_SPARK_MASTER", "local[*]")
# The Spark driver's heap (Spark's default, 1g, runs out on a province's residue).
SPARK_DRIVER_MEMORY = env_str("JINGZHUN_SPARK_DRIVER_MEMORY", "4g")
# A preview moving more than this share of enrolled children out of school is held.
IDENTIFICATION_RUN_HOLD_SHARE = float(os.environ.get("JINGZHUN_RUN_HOLD_SHARE", "0.05"))

# Working days: public holidays and make-up working days beyond the shipped calendar.
HOLIDAYS = env_list("JINGZHUN_HOLIDAYS")
MAKEUP_WORKDAYS = env_list("JINGZHUN_MAKEUP_WORKDAYS")

# Aid: the shortest public notice, in working days (II.1: at least 5).
AID_NOTICE_WORKING_DAYS = max(5, env_int("JINGZHUN_AID_NOTICE_WORKING_DAYS", 5))
# Phone number printed on notice sheets for objections ('' prints none).
AID_OBJECTION_PHONE = env_str("JINGZHUN_AID_OBJECTION_PHONE", "")
UNKNOWN_EXIT_YEAR = env_str("JINGZHUN_UNKNOWN_EXIT_YEAR", "keep")  # keep | none

# Dropout casework: a teacher's report opens a case after more than this many days of absence;
# a case with nothing recorded for this many working days is overdue.
DUTY_ABSENCE_DAYS = env_int("JINGZHUN_DUTY_ABSENCE_DAYS", 10)
DUTY_STALE_WORKING_DAYS = env_int("JINGZHUN_DUTY_STALE_WORKING_DAYS", 7)

# Teachers (II.3.1): pupils per teacher post by stage, as the staffing norms give them, and the
# extra posts of boarding schools (one per this many boarders) and of each teaching point.
TEACHER_RATIO_PRIMARY = float(os.environ.get("JINGZHUN_TEACHER_RATIO_PRIMARY", "19"))
TEACHER_RATIO_JUNIOR = float(os.environ.get("JINGZHUN_TEACHER_RATIO_JUNIOR", "13.5"))
TEACHER_RATIO_SENIOR = float(os.environ.get("JINGZHUN_TEACHER_RATIO_SENIOR", "12.5"))
TEACHER_BOARDERS_PER_EXTRA_POST = env_int("JINGZHUN_TEACHER_BOARDERS_PER_EXTRA_POST", 40)
TEACHER_EXTRA_POSTS_PER_TEACHING_POINT = env_int("JINGZHUN_TEACHER_EXTRA_POSTS_TEACHING_POINT", 1)
# Training person-times the plan sets per calendar year (II.3.2), and the least share (in %) of
# a poor-village school's teachers who are urban teachers on exchange there (II.3.3).
TEACHER_TRAINING_TARGETS = {2016: 220, 2017: 230, 2018: 230}
TEACHER_EXCHANGE_MIN_PERCENT = env_int("JINGZHUN_TEACHER_EXCHANGE_MIN_PERCENT", 10)
# Years at village schools and teaching points that make a teacher eligible for commendation.
TEACHER_COMMENDATION_YEARS = env_int("JINGZHUN_TEACHER_COMMENDATION_YEARS", 20)

# --------------------------------------------------------------------------- accounts, sessions,
# headers (docs/security.md). Behind a reverse proxy (nginx), the client's address comes from
# this header, and only for requests from TRUSTED_PROXIES; without it, forwarding headers are
# ignored (jingzhun.core.middleware.TrustedProxyMiddleware).
TRUSTED_PROXY_HEADER = env_str("JINGZHUN_TRUSTED_PROXY_HEADER", "")  # e.g. X-Real-IP
TRUSTED_PROXIES = env_list("JINGZHUN_TRUSTED_PROXIES", "127.0.0.1,::1")
# Sessions end after this long without a request, and SESSION_COOKIE_AGE after the login.
SESSION_IDLE_TIMEOUT = 60 * env_int("JINGZHUN_SESSION_IDLE_MINUTES", 30)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# API bearer tokens expire this many days after they are made (`jingzhun api-token rotate`).
API_TOKEN_DAYS = env_int("JINGZHUN_API_TOKEN_DAYS", 30)
# Whole numbers one user may be shown per hour; past it, refusals and an audit alert.
REVEAL_LIMIT_PER_HOUR = env_int("JINGZHUN_REVEAL_LIMIT_PER_HOUR", 20)
# Two-factor login (TOTP): required for these roles and for superusers, optional for others.
# JINGZHUN_DEMO=1 (`make demo`) relaxes the requirement, with a badge on every admin page;
# `check --deploy` refuses it. Off under test, except in the tests about it.
TWO_FACTOR_ROLES = ["county_admin", "aid_officer", "bureau_leader", "inspector"]
TWO_FACTOR_ENABLED = not TESTING
DEMO = env_bool("JINGZHUN_DEMO")
OTP_TOTP_ISSUER = "Jingzhun"
if DEMO:
    UNFOLD["ENVIRONMENT"] = "jingzhun.accounts.two_factor.demo_environment"
# Content-Security-Policy (django-csp): scripts from the site itself or with the page's nonce
# only (unfold's Alpine.js evaluates its x-* attributes, hence 'unsafe-eval'); inline styles
# are allowed (unfold's style attributes); no plugins, no framing, forms post to the site only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE, "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# HTTPS (JINGZHUN_SECURE_COOKIES=1, production): HSTS for a year by default; behind the trusted
# proxy, its X-Forwarded-Proto says whether the client's request was HTTPS.
if SESSION_COOKIE_SECURE:
    SECURE_HSTS_SECONDS = env_int("JINGZHUN_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("JINGZHUN_HSTS_INCLUDE_SUBDOMAINS")
    if TRUSTED_PROXY_HEADER:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# `jingzhun check --deploy` (run by .ci/run with production settings): checks left to the
# deployment, each with its reason.
SILENCED_SYSTEM_CHECKS = [
    "security.W008",  # nginx redirects HTTP to HTTPS; the app listens on 127.0.0.1 only (README)
    "security.W005",  # HSTS on subdomains is the domain owner's call: JINGZHUN_HSTS_INCLUDE_SUBDOMAINS
    "security.W021",  # HSTS preload binds the whole domain for months: the domain owner's call
]
