"""Django settings for missync, read once from the environment.

`DATABASE_URL` selects the database (`sqlite:///path` or `postgresql://user@host:port/name`); by default
missync keeps one SQLite file in `MISSYNC_HOME` (default `~/.missync`). Secrets (`MISSYNC_SECRET_KEY`,
`MISSYNC_CREDENTIAL_KEY`) come from the environment; when absent, missync makes them once and keeps them
in files under `MISSYNC_HOME` readable only by their owner, never in the database.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from missync.credentials.mail_settings import email_settings
from missync.keys import secret_from_env_or_file

HOME = Path(os.environ.get("MISSYNC_HOME") or Path.home() / ".missync").expanduser()
DEBUG = os.environ.get("MISSYNC_DEBUG") == "1"
# Owner-only: the SQLite database, uploaded MIS exports and emails below it are children's data.
HOME.mkdir(mode=0o700, parents=True, exist_ok=True)

SECRET_KEY = secret_from_env_or_file("MISSYNC_SECRET_KEY", HOME / "secret.key", kind="django")
# The key that encrypts pupils' reprintable passwords; kept outside the database so a dump holds none.
MISSYNC_CREDENTIAL_KEY = secret_from_env_or_file(
    "MISSYNC_CREDENTIAL_KEY", HOME / "credential.key", kind="fernet"
)

ALLOWED_HOSTS = [h for h in os.environ.get("MISSYNC_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "missync.accounts",
    "missync.connections",
    "missync.wizard",
    "missync.credentials",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during sign-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses sign-ins that are locked out. Staff sign in with Django users
# (ModelBackend); pupils with their username and password or picture PIN (PupilBackend, no Django user).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "missync.credentials.backends.PupilBackend",
]

# Staff passwords (admins, teachers after activation): Django's standard checks, at least 10 characters.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ROOT_URLCONF = "missync.urls"
WSGI_APPLICATION = "missync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{HOME / 'missync.sqlite3'}"
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=0))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE: a write transaction takes the lock when it starts, so two applies never interleave.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        Path(str(config["NAME"])).parent.mkdir(parents=True, exist_ok=True)
        # A file, not shared-cache memory, so tests see real SQLite locking between connections.
        # One file per test process, so two test runs on one machine never share a database.
        config["TEST"] = {"NAME": str(HOME / f"test-missync-{os.getpid()}.sqlite3")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "Europe/London"
LANGUAGE_CODE = "en-gb"
STATIC_URL = "/static/"
# WhiteNoise serves static files straight from the installed packages (no collectstatic step needed).
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("MISSYNC_SECURE_COOKIES") == "1"
# Where uploaded MIS exports wait between wizard steps; removed when the wizard finishes.
UPLOAD_ROOT = HOME / "uploads"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# -- failed sign-ins (django-axes): per account and per address, cleared by a teacher or after the cool-off.
AXES_HANDLER = "missync.credentials.lockout.SchoolLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("MISSYNC_ACCOUNT_FAILURE_LIMIT") or 5)  # per account
# Per address: a whole school often shares one public address, so it is much higher than per account.
MISSYNC_ADDRESS_FAILURE_LIMIT = int(os.environ.get("MISSYNC_ADDRESS_FAILURE_LIMIT") or 200)
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("MISSYNC_LOCKOUT_MINUTES") or 15))
AXES_USERNAME_CALLABLE = "missync.credentials.lockout.attempt_username"
AXES_LOCKOUT_CALLABLE = "missync.credentials.lockout.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False
# Never store what was typed: every secret field of the sign-in forms is masked in axes' records.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "email",
    "ip_address",
    "password",
    "pin",
    "digit",
    "password1",
    "password2",
]

# -- email: staff activation links (see missync.credentials.mail_settings for MISSYNC_EMAIL_URL etc.).
# The default writes each email to a file in MISSYNC_HOME/emails/, so a demo never sends real mail.
globals().update(email_settings(os.environ, HOME))
# How long a staff activation link works, and the address printed on login cards and in emails
# (empty: the address the page was opened at; for the CLI, http://127.0.0.1:8000).
MISSYNC_ACTIVATION_DAYS = int(os.environ.get("MISSYNC_ACTIVATION_DAYS") or 7)
MISSYNC_BASE_URL = os.environ.get("MISSYNC_BASE_URL", "").strip().rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
