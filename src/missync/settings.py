"""Django settings for missync, read once from the environment.

`DATABASE_URL` selects the database (`sqlite:///path` or `postgresql://user@host:port/name`); by default
missync keeps one SQLite file in `MISSYNC_HOME` (default `~/.missync`). Secrets (`MISSYNC_SECRET_KEY`,
`MISSYNC_CREDENTIAL_KEY`) come from the environment; when absent, missync makes them once and keeps them
in files under `MISSYNC_HOME` readable only by their owner, never in the database.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from missync.keys import secret_from_env_or_file

HOME = Path(os.environ.get("MISSYNC_HOME") or Path.home() / ".missync").expanduser()
DEBUG = os.environ.get("MISSYNC_DEBUG") == "1"

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
    "missync.wizard",
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
        config["TEST"] = {"NAME": str(HOME / "test-missync.sqlite3")}
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
