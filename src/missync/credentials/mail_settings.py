"""Email settings read once from the environment by `missync.settings` (staff activation emails).

`MISSYNC_EMAIL_URL` names where mail goes in one value:
- `smtp://user:password@host:587?tls=1` (STARTTLS) or `smtps://user:password@host:465` (implicit TLS);
- `console:` prints each email; `file:/some/folder` writes each email to a file there.
Without it, Django's own `EMAIL_HOST` (with `EMAIL_PORT`, `EMAIL_HOST_USER`, `EMAIL_HOST_PASSWORD`,
`EMAIL_USE_TLS`, `EMAIL_USE_SSL`) selects SMTP. With neither, emails are written to files in
`MISSYNC_HOME/emails/`: the default and the demo, so nothing is ever sent by accident.
Only the standard library is imported here: settings load it before Django is set up.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

SMTP = "django.core.mail.backends.smtp.EmailBackend"
FILES = "django.core.mail.backends.filebased.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"
_TRUE = {"1", "true", "yes", "on"}


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def _from_url(url: str, home: Path) -> dict[str, object]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": CONSOLE}
    if scheme == "file":
        folder = unquote(parts.path or parts.netloc) or str(home / "emails")
        return {"EMAIL_BACKEND": FILES, "EMAIL_FILE_PATH": folder}
    if scheme not in ("smtp", "smtps"):
        raise ValueError(
            f"MISSYNC_EMAIL_URL must start with smtp://, smtps://, console: or file:, not {scheme}:"
        )
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps" or _flag(query.get("ssl")),
        "EMAIL_USE_TLS": scheme == "smtp" and (_flag(query.get("tls")) or _flag(query.get("starttls"))),
    }


def email_settings(environ: Mapping[str, str], home: Path) -> dict[str, object]:
    """The Django email settings for this environment (see the module docstring)."""
    url = environ.get("MISSYNC_EMAIL_URL", "").strip()
    if url:
        found = _from_url(url, home)
    elif environ.get("EMAIL_HOST", "").strip():
        found = {
            "EMAIL_BACKEND": SMTP,
            "EMAIL_HOST": environ["EMAIL_HOST"].strip(),
            "EMAIL_PORT": int(environ.get("EMAIL_PORT") or 25),
            "EMAIL_HOST_USER": environ.get("EMAIL_HOST_USER", ""),
            "EMAIL_HOST_PASSWORD": environ.get("EMAIL_HOST_PASSWORD", ""),
            "EMAIL_USE_TLS": _flag(environ.get("EMAIL_USE_TLS")),
            "EMAIL_USE_SSL": _flag(environ.get("EMAIL_USE_SSL")),
        }
    else:
        found = {"EMAIL_BACKEND": FILES, "EMAIL_FILE_PATH": str(home / "emails")}
    found.setdefault("EMAIL_FILE_PATH", str(home / "emails"))
    found["EMAIL_TIMEOUT"] = 20
    found["DEFAULT_FROM_EMAIL"] = (
        environ.get("MISSYNC_EMAIL_FROM", "").strip() or "missync <no-reply@localhost>"
    )
    return found
