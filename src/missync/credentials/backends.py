"""Pupils sign in through `django.contrib.auth.authenticate`, so django-axes counts their failures.

`PupilBackend` answers only calls that pass `pupil_school`, `pupil_username` and `pupil_password`
(staff sign-ins pass `username` and `password` and never reach it). It returns the pupil's `Account`,
which is never logged in as a Django user: the view starts a pupil session instead.
"""

from __future__ import annotations

from django.http import HttpRequest

from missync.accounts.models import Account, School

from .pupils import credential_matches, find_pupil


class PupilBackend:
    def authenticate(
        self,
        request: HttpRequest | None,
        pupil_school: School | None = None,
        pupil_username: str | None = None,
        pupil_password: str | None = None,
    ) -> Account | None:
        if pupil_school is None or pupil_username is None or pupil_password is None:
            return None
        pupil = find_pupil(pupil_school, pupil_username)
        return pupil if credential_matches(pupil, pupil_password) else None

    def get_user(self, user_id: int) -> None:
        """Pupils are never Django users, so no session ever names this backend."""
        return None
