"""Teachers' credential actions: new passwords for one pupil or a whole class, and the school's history.

Credentials are not part of a sync plan, so changing them does not bump the school's revision: a sync
preview made before stays valid. Every action is recorded as a `CredentialEvent`, never the password.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q, QuerySet

from missync.accounts.crypto import decrypt_credential, encrypt_credential
from missync.accounts.models import Account, School, SchoolClass
from missync.core.passwords import PASSWORD_FORMATS, RandomSource, default_password_format, generate_password

from .lockout import clear_pupil_lockout
from .models import CredentialEvent
from .pupils import renew_states


def record_event(
    school: School,
    actor: str,
    action: str,
    *,
    account: Account | None = None,
    school_class: SchoolClass | None = None,
    detail: str = "",
) -> CredentialEvent:
    """Add one line to the school's credential history (who, what, which pupil or class; no secret)."""
    subject = (
        account.username if account is not None else school_class.name if school_class is not None else ""
    )
    return CredentialEvent.objects.create(
        school=school,
        actor=actor[:254],
        action=action,
        account=account,
        school_class=school_class,
        subject=subject[:200],
        detail=detail[:200],
    )


def year_format(pupil: Account) -> str:
    """The password format the school chose for the pupil's year group (or the default for it)."""
    formats = pupil.school.password_formats or {}
    return formats.get(pupil.year_group or "") or default_password_format(pupil.year_group)


def _fresh(fmt: str, old: str | None, rng: RandomSource) -> str:
    """A new password in `fmt`, different from the old one (a two-digit PIN has only 100)."""
    for _ in range(20):
        password = generate_password(fmt, rng)
        if password != old:
            return password
    return password


def reset_password(
    pupil: Account, *, actor: str, fmt: str | None = None, rng: RandomSource | None = None
) -> str:
    """Give one pupil a new password (their year's format unless `fmt`); their old QR codes and
    sessions stop working and any lockout is cleared. Returns the new password for showing once."""
    fmt = fmt or year_format(pupil)
    if fmt not in PASSWORD_FORMATS:
        raise ValueError(f"unknown password format {fmt!r}")
    rng = rng or secrets.SystemRandom()
    with transaction.atomic():
        password = _fresh(fmt, decrypt_credential(pupil.credential), rng)
        pupil.credential = encrypt_credential(password)
        pupil.save(update_fields=["credential"])
        renew_states([pupil])
        record_event(pupil.school, actor, "reset", account=pupil, detail=f"new {PASSWORD_FORMATS[fmt]}")
    clear_pupil_lockout(pupil)
    return password


def pupils_of_class(school_class: SchoolClass) -> QuerySet[Account]:
    """Active pupils whose class this is, or who are in this subject group."""
    return (
        Account.objects.filter(school_id=school_class.school_id, role="pupil", status="active")
        .filter(Q(registration_class=school_class) | Q(memberships__school_class=school_class))
        .distinct()
        .select_related("registration_class", "school")
        .order_by("surname", "forename", "id")
    )


def change_class_passwords(
    school_class: SchoolClass,
    fmt: str,
    *,
    actor: str,
    pupils: Sequence[Account] | None = None,
    rng: RandomSource | None = None,
) -> int:
    """Give every pupil of a class (or the given ones) a new password in `fmt`; returns how many.

    Their old QR codes and sessions stop working. One history line records the whole class.
    """
    if fmt not in PASSWORD_FORMATS:
        raise ValueError(f"unknown password format {fmt!r}")
    rng = rng or secrets.SystemRandom()
    chosen = list(pupils_of_class(school_class) if pupils is None else pupils)
    with transaction.atomic():
        for pupil in chosen:
            pupil.credential = encrypt_credential(_fresh(fmt, decrypt_credential(pupil.credential), rng))
        Account.objects.bulk_update(chosen, ["credential"], batch_size=1000)
        renew_states(chosen)
        record_event(
            school_class.school,
            actor,
            "class_reset",
            school_class=school_class,
            detail=f"{len(chosen)} pupils, new {PASSWORD_FORMATS[fmt]}",
        )
    for pupil in chosen:
        clear_pupil_lockout(pupil)
    return len(chosen)
