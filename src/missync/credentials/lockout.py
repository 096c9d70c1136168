"""Limits on failed sign-ins, by django-axes: per account and per address, with a lockout a teacher clears.

Axes counts failures per username and per address (`AXES_LOCKOUT_PARAMETERS`), with one limit. A school
often signs in from one shared public address, so the address needs a far higher limit than an account:
`SchoolLockoutHandler` (axes' documented handler extension point) scales the address count so both limits
apply. Pupils have no Django user: their attempts are recorded under `pupil_attempt_key`, which
`attempt_username` (`AXES_USERNAME_CALLABLE`) gives axes. Unknown usernames are counted and locked out
just like real ones, so a lockout never tells whether a username exists.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from missync.accounts.models import Account, School

# Keyword names pupils' sign-ins pass to `authenticate` (ModelBackend ignores them: no `username`).
PUPIL_SCHOOL, PUPIL_USERNAME, PUPIL_PASSWORD = "pupil_school", "pupil_username", "pupil_password"


def pupil_attempt_key(school: School, username: str) -> str:
    """The name axes records a pupil's sign-in attempts under (never clashes with a staff sign-in)."""
    return f"pupil:{school.slug}:{username.strip().lower()}"


def attempt_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """`AXES_USERNAME_CALLABLE`: whose attempt this is, for staff (Django username) and pupils."""
    credentials = credentials or {}
    school = credentials.get(PUPIL_SCHOOL)
    if isinstance(school, School) and credentials.get(PUPIL_USERNAME) is not None:
        return pupil_attempt_key(school, str(credentials[PUPIL_USERNAME]))
    username = credentials.get("username")
    return str(username) if username else None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """`AXES_LOCKOUT_CALLABLE`: the sign-in page already says so (same words for every username)."""
    if isinstance(original_response, HttpResponse):
        return original_response
    return HttpResponse("Too many failed sign-ins. Try again later.", status=429)


class SchoolLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: `AXES_FAILURE_LIMIT` per account and the higher
    `MISSYNC_ADDRESS_FAILURE_LIMIT` per address."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        by_account = 0
        if username:
            by_account = _failures(recent.filter(username=username))
        by_address = _failures(recent.filter(ip_address=request.axes_ip_address))
        account_limit = get_failure_limit(request, credentials)
        address_limit = max(int(settings.MISSYNC_ADDRESS_FAILURE_LIMIT), account_limit)
        # Scaled so that it reaches the account limit exactly when the address reaches its own limit.
        return max(by_account, by_address * account_limit // address_limit)


def _failures(attempts: Any) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


def recent_failures(key: str) -> int:
    """Failed sign-ins recorded under `key` within the cool-off time."""
    attempts = AccessAttempt.objects.filter(username=key)
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return _failures(attempts)


def is_pupil_locked(pupil: Account) -> bool:
    """Whether this pupil's account is locked out after too many failed sign-ins."""
    return recent_failures(pupil_attempt_key(pupil.school, pupil.username)) >= int(
        settings.AXES_FAILURE_LIMIT
    )


def clear_pupil_lockout(pupil: Account) -> int:
    """Forget the pupil's failed sign-ins (their lockout ends now); returns how many records went."""
    return int(reset(username=pupil_attempt_key(pupil.school, pupil.username)))
