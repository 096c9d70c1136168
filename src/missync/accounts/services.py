"""What the CLI and the web app do to a school, in one place: settings, hand-made users, preview, listing."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

from django.db import transaction

from missync.core.names import clean_name
from missync.core.passwords import PASSWORD_FORMATS, default_password_format, generate_password
from missync.core.plan import Plan
from missync.core.planning import build_plan
from missync.core.roster import Roster
from missync.core.usernames import USERNAME_FORMATS, UsernameAllocator
from missync.core.years import YEAR_GROUPS, map_year
from missync.sources import read_sources

from .apply import record_manual_change
from .crypto import decrypt_credential, encrypt_credential
from .models import Account, Membership, School, SchoolClass
from .store import load_snapshot

SETTINGS_FIELDS = (
    "pupil_username_format", "staff_username_format", "password_formats", "year_map", "subject_groups",
    "hold_threshold",
)  # fmt: skip


class InvalidInput(ValueError):
    """A value given by the user is not acceptable; the message says which and what would be."""


def create_school(slug: str, name: str) -> School:
    if School.objects.filter(slug=slug).exists():
        raise InvalidInput(f"a school '{slug}' already exists")
    return School.objects.create(slug=slug, name=name)


def check_username_format(fmt: str) -> str:
    if fmt not in USERNAME_FORMATS:
        raise InvalidInput(f"unknown username format '{fmt}': choose one of {', '.join(USERNAME_FORMATS)}")
    return fmt


def check_password_format(fmt: str) -> str:
    if fmt not in PASSWORD_FORMATS:
        raise InvalidInput(f"unknown password format '{fmt}': choose one of {', '.join(PASSWORD_FORMATS)}")
    return fmt


def check_year_group(year: str) -> str:
    found = map_year(year, {})
    if found is None or found not in YEAR_GROUPS:
        raise InvalidInput(f"'{year}' is not a platform year group: use one of {', '.join(YEAR_GROUPS)}")
    return found


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    """`["A=B", ...]` as a dict; a pair without '=' is refused."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        left, sep, right = pair.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise InvalidInput(f'{what} must look like "NAME=VALUE", got "{pair}"')
        parsed[left.strip()] = right.strip()
    return parsed


def update_settings(
    school: School,
    *,
    pupil_usernames: str | None = None,
    staff_usernames: str | None = None,
    passwords: Mapping[str, str] | None = None,
    year_map: Mapping[str, str] | None = None,
    subject_groups: Sequence[str] | None = None,
    all_subject_groups: bool = False,
    hold_threshold: float | None = None,
) -> School:
    """Remember the wizard's choices for this school (checked first: nothing is saved if one is wrong)."""
    if pupil_usernames is not None:
        school.pupil_username_format = check_username_format(pupil_usernames)
    if staff_usernames is not None:
        school.staff_username_format = check_username_format(staff_usernames)
    if passwords:
        formats = dict(school.password_formats or {})
        for year, fmt in passwords.items():
            formats[check_year_group(year)] = check_password_format(fmt)
        school.password_formats = formats
    if year_map:
        remembered = dict(school.year_map or {})
        for mis_name, year in year_map.items():
            remembered[mis_name] = check_year_group(year)
        school.year_map = remembered
    if all_subject_groups:
        school.subject_groups = None
    elif subject_groups is not None:
        school.subject_groups = sorted({name.strip() for name in subject_groups if name.strip()})
    if hold_threshold is not None:
        if not 0 < hold_threshold <= 1:
            raise InvalidInput("the safety hold threshold must be a share between 0 and 1, e.g. 0.1 for 10%")
        school.hold_threshold = hold_threshold
    # Only the choices: never write back a stale revision over a sync being applied meanwhile.
    school.save(update_fields=[*SETTINGS_FIELDS])
    return school


def add_user(
    school: School,
    *,
    forename: str,
    surname: str,
    role: str = "pupil",
    class_name: str | None = None,
    year: str | None = None,
    email: str | None = None,
    dob: dt.date | None = None,
) -> tuple[Account, str | None]:
    """Add an account by hand (unlinked: a sync never changes or archives it). Returns it and its password."""
    forename, surname = clean_name(forename), clean_name(surname)
    if not forename or not surname:
        raise InvalidInput("a user needs a forename and a surname")
    if role not in ("pupil", "staff"):
        raise InvalidInput("role must be pupil or staff")
    year_group = check_year_group(year) if year else None
    with transaction.atomic():
        taken = Account.objects.filter(school=school).values_list("username", flat=True)
        fmt = school.pupil_username_format if role == "pupil" else school.staff_username_format
        username = UsernameAllocator(taken).allocate(fmt, forename, surname, fallback=role)
        password = None
        if role == "pupil":
            fmt = (school.password_formats or {}).get(year_group or "") or default_password_format(year_group)
            password = generate_password(fmt, secrets.SystemRandom())
        school_class = None
        if class_name:
            school_class = (
                SchoolClass.objects.filter(school=school, name=class_name.strip(), status="active")
                .order_by("kind")  # a registration class before a subject group of the same name
                .first()
            )
            if school_class is None:
                school_class = SchoolClass.objects.create(school=school, name=class_name.strip())
        account = Account.objects.create(
            school=school,
            role=role,
            username=username,
            forename=forename,
            surname=surname,
            year_group=year_group,
            registration_class=school_class if role == "pupil" else None,
            email=email or None,
            dob=dob,
            credential=encrypt_credential(password) if password else "",
        )
        if school_class is not None and role == "staff":
            Membership.objects.create(school=school, account=account, school_class=school_class)
        record_manual_change(school)
    return account, password


# SOURCE names that mean "read this school's live connection" rather than a file.
PROVIDER_SOURCES = ("wonde", "xporter", "oneroster-api")


def read_roster(school: School, paths: Sequence[str | PathLike[str]]) -> Roster:
    """Read files or folders, or the school's live provider connection when SOURCE names one."""
    if len(paths) == 1 and str(paths[0]) in PROVIDER_SOURCES:
        from missync.connections.services import read_connection

        return read_connection(school, str(paths[0]))
    return read_sources(paths)


@dataclass
class Preview:
    roster: Roster
    plan: Plan


def preview(school: School, paths: Sequence[str | PathLike[str]], **choice_overrides: Any) -> Preview:
    """Read the sources and plan the sync against the school's store. Writes nothing."""
    roster = read_roster(school, paths)
    plan = build_plan(roster, load_snapshot(school), school.choices(**choice_overrides))
    return Preview(roster, plan)


def list_users(
    school: School, *, archived: bool = False, show_passwords: bool = False
) -> list[dict[str, Any]]:
    """The school's accounts as `missync users --json` prints them (active ones, or archived ones)."""
    status = "archived" if archived else "active"
    classes = dict(SchoolClass.objects.filter(school=school).values_list("id", "name"))
    groups: dict[int, list[str]] = {}
    for account_id, class_id in Membership.objects.filter(school=school).values_list(
        "account_id", "school_class_id"
    ):
        groups.setdefault(account_id, []).append(classes[class_id])
    users = []
    rows = Account.objects.filter(school=school, status=status).order_by("role", "surname", "forename", "id")
    for account in rows.iterator(chunk_size=2000):
        user: dict[str, Any] = {
            "username": account.username,
            "forename": account.forename,
            "surname": account.surname,
            "role": account.role,
            "year_group": account.year_group,
            "registration_group": classes.get(account.registration_class_id or 0),
            "groups": sorted(groups.get(account.pk, [])),
            "upn": account.upn,
            "mis_id": account.mis_id,
            "email": account.email,
            "status": account.status,
        }
        if show_passwords and account.role == "pupil":
            user["password"] = decrypt_credential(account.credential)
        users.append(user)
    return users
