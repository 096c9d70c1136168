"""Secrets come from the environment, else from a file made once under MISSYNC_HOME (mode 0600)."""

from __future__ import annotations

import os
import secrets as _secrets
from pathlib import Path


def _new_secret(kind: str) -> str:
    if kind == "fernet":
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()
    return _secrets.token_urlsafe(50)


def secret_from_env_or_file(variable: str, path: Path, *, kind: str) -> str:
    """The secret in `variable`, else the one kept in `path` (created on first use, owner-only)."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = _new_secret(kind)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
