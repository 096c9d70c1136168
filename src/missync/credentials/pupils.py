"""A pupil's credential as sign-in sees it: checking it, QR codes that sign in, and pupils' sessions.

A pupil never becomes a Django user. A signed-in pupil is a session entry holding their account id and
the nonce of their credential state: changing the credential changes the nonce, so old sessions end and
old QR codes stop working. QR tokens are signed with django.core.signing and carry account id and nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.contrib.auth import logout
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone

from missync.accounts.crypto import decrypt_credential, encrypt_credential
from missync.accounts.models import Account, School
from missync.core.passwords import default_password_format

from .models import PupilCredentialState

SESSION_KEY = "missync_pupil"
_QR_SALT = "missync.credentials.qr"


def find_pupil(school: School, username: str) -> Account | None:
    """The active pupil of `school` with this username (compared case-insensitively), if any."""
    username = username.strip()
    # Usernames are plain ASCII: anything else is nobody's (and must not match through a database's
    # Unicode case folding, a long s for an s in "RussellD", which would dodge the lockout count).
    if not username or len(username) > 60 or not username.isascii():
        return None
    return (
        Account.objects.filter(school=school, role="pupil", status="active", username__iexact=username)
        .select_related("registration_class", "school")
        .first()
    )


def picture_pin_length(pupil: Account | None) -> int | None:
    """How many pictures the pupil's PIN has, or None when they type a password (or are unknown)."""
    plain = decrypt_credential(pupil.credential) if pupil is not None else None
    return len(plain) if plain and plain.isdigit() else None


_PIN_LENGTHS = {"picture-pin": 4, "two-digit-picture-pin": 2}


def school_pin_lengths(school: School) -> list[int | None]:
    """The kinds of sign-in form the school's pupils get: None (a password box) and/or pad sizes, from
    the password formats of the year groups on roll (the school's chosen ones, else the defaults)."""
    years = Account.objects.filter(school=school, role="pupil", status="active").values_list(
        "year_group", flat=True
    )
    chosen = school.password_formats or {}
    formats = {chosen.get(year or "") or default_password_format(year) for year in years.distinct()}
    kinds = {_PIN_LENGTHS.get(fmt) for fmt in formats} or {None}
    return sorted(kinds, key=lambda kind: kind or 0)


def decoy_pin_length(school: School, username: str) -> int | None:
    """For an unknown username, a kind of form the school's real pupils get (a password box, or a pad of
    4 or 2 pictures), chosen by a keyed hash so it is the same on every try: the form's shape never tells
    whether a username exists."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"{school.pk}:{username.strip().lower()}".encode(), "sha256").digest()
    kinds = school_pin_lengths(school)
    return kinds[digest[0] % len(kinds)]


@cache
def _decoy() -> str:
    return encrypt_credential(secrets.token_hex(8))


def credential_matches(pupil: Account | None, typed: str) -> bool:
    """Whether `typed` is the pupil's password or PIN (spaces around and letter case do not matter).

    An unknown pupil costs the same work as a known one, so timing does not tell whether a username exists.
    """
    expected = decrypt_credential(pupil.credential if pupil is not None else _decoy())
    if pupil is None or not expected:
        return False
    return hmac.compare_digest(typed.strip().lower().encode(), expected.strip().lower().encode())


# -- credential state ----------------------------------------------------------------------------
def credential_digest(account: Account) -> str:
    """A digest of the encrypted credential (never of the plain one): it changes whenever it is rewritten."""
    return hashlib.sha256(account.credential.encode()).hexdigest()


def _new_nonce() -> str:
    return secrets.token_urlsafe(12)


def ensure_states(accounts: Iterable[Account]) -> dict[int, PupilCredentialState]:
    """The current credential state of each account, made or renewed in bulk where it is missing or stale."""
    by_id = {account.pk: account for account in accounts}
    found = {state.pk: state for state in PupilCredentialState.objects.filter(account_id__in=list(by_id))}
    stale = [
        found[pk]
        for pk, account in by_id.items()
        if pk in found and found[pk].credential_digest != credential_digest(account)
    ]
    for state in stale:
        state.nonce, state.credential_digest = _new_nonce(), credential_digest(by_id[state.pk])
        state.updated_at = timezone.now()
    PupilCredentialState.objects.bulk_update(
        stale, ["nonce", "credential_digest", "updated_at"], batch_size=1000
    )
    missing = [
        PupilCredentialState(account_id=pk, nonce=_new_nonce(), credential_digest=credential_digest(account))
        for pk, account in by_id.items()
        if pk not in found
    ]
    if missing:
        # Another request may make some at the same moment: keep whichever was stored first.
        PupilCredentialState.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
        found.update(
            {
                state.pk: state
                for state in PupilCredentialState.objects.filter(account_id__in=[s.pk for s in missing])
            }
        )
    return found


def ensure_state(account: Account) -> PupilCredentialState:
    return ensure_states([account])[account.pk]


def renew_states(accounts: Iterable[Account]) -> None:
    """Give these accounts new nonces (after their credentials changed): old QR codes and sessions end."""
    rows = [
        PupilCredentialState(
            account_id=account.pk, nonce=_new_nonce(), credential_digest=credential_digest(account)
        )
        for account in accounts
    ]
    PupilCredentialState.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["account"],
        update_fields=["nonce", "credential_digest", "updated_at"],
    )


def _current(account: Account, nonce: str) -> bool:
    state = PupilCredentialState.objects.filter(account_id=account.pk).first()
    return (
        state is not None
        and hmac.compare_digest(state.nonce, nonce)
        and state.credential_digest == credential_digest(account)
    )


# -- QR codes ------------------------------------------------------------------------------------
def qr_token(account: Account, state: PupilCredentialState) -> str:
    """The signed token in a pupil's QR code: account id and the nonce of their current credential."""
    return signing.Signer(salt=_QR_SALT).sign(f"{account.pk}.{state.nonce}")


def pupil_from_qr(school: School, token: str) -> Account | None:
    """The pupil a QR token signs in, or None when it is forged, for another school, or revoked."""
    try:
        value = signing.Signer(salt=_QR_SALT).unsign(token)
    except signing.BadSignature:
        return None
    account_id, _, nonce = value.partition(".")
    if not account_id.isdigit() or not nonce:
        return None
    pupil = (
        Account.objects.filter(pk=int(account_id), school=school, role="pupil", status="active")
        .select_related("registration_class", "school")
        .first()
    )
    if pupil is None or not _current(pupil, nonce):
        return None
    return pupil


# -- pupils' sessions ----------------------------------------------------------------------------
def start_pupil_session(request: HttpRequest, pupil: Account) -> None:
    """Sign `pupil` in on this browser (a staff member signed in here is signed out first)."""
    if request.user.is_authenticated:
        logout(request)  # a new, empty session
    else:
        request.session.cycle_key()
    state = ensure_state(pupil)
    request.session[SESSION_KEY] = {"school": pupil.school_id, "account": pupil.pk, "nonce": state.nonce}


def signed_in_pupil(request: HttpRequest, school: School) -> Account | None:
    """The pupil signed in on this browser at `school`, while their credential is unchanged and active."""
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("school") != school.pk:
        return None
    pupil = (
        Account.objects.filter(pk=entry.get("account"), school=school, role="pupil", status="active")
        .select_related("registration_class")
        .first()
    )
    if pupil is None or not _current(pupil, str(entry.get("nonce", ""))):
        request.session.pop(SESSION_KEY, None)
        return None
    return pupil


def end_pupil_session(request: HttpRequest) -> None:
    request.session.flush()
