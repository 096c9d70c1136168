"""Pupils' reprintable credentials, encrypted at rest with a key from settings (never in the database)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt_credential(plain: str) -> str:
    return _fernet(settings.MISSYNC_CREDENTIAL_KEY).encrypt(plain.encode()).decode()


def decrypt_credential(token: str) -> str | None:
    """The plain credential, or None when there is none or it was made with another key."""
    if not token:
        return None
    try:
        return _fernet(settings.MISSYNC_CREDENTIAL_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
