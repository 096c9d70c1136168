"""Manage Users: the lists behind its tabs, adding users by hand, renaming classes, restoring leavers.

Every function takes the school, and the lists take the class ids the sign-in may see (`None`: a school
admin, who sees everything; see `access.teacher_class_ids`). Lists are bulk queries: a page of 100
pupils costs the same handful of queries as a page of 10. Every manual write ends with
`record_manual_change`, so an older sync preview cannot be applied over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet

from missync.accounts.apply import record_manual_change
from missync.accounts.models import Account, Membership, School, SchoolClass
from missync.accounts.services import InvalidInput, add_user
from missync.core.names import clean_name

PAGE_SIZE = 100
MAX_CLASS_NAME = 200
KIND_REGISTRATION, KIND_SUBJECT = "registration", "subject"

ClassIds = Collection[int] | None  # None: every class of the school (a school admin)


# -- who is visible -------------------------------------------------------------------------------
def _members_of(school: School, class_ids: Iterable[int]) -> QuerySet[Membership]:
    return Membership.objects.filter(school=school, school_class_id__in=class_ids)


def _in_classes(accounts: QuerySet[Account], school: School, class_ids: Collection[int]) -> QuerySet[Account]:
    """Accounts registered in, or members of, any of `class_ids` (a subquery: no duplicate rows)."""
    return accounts.filter(
        Q(registration_class_id__in=class_ids) | Q(pk__in=_members_of(school, class_ids).values("account_id"))
    )


def visible_pupils(school: School, class_ids: ClassIds) -> QuerySet[Account]:
    """The school's active pupils that a sign-in may see."""
    pupils = Account.objects.filter(school=school, role="pupil", status="active")
    return pupils if class_ids is None else _in_classes(pupils, school, class_ids)


def visible_classes(school: School, class_ids: ClassIds, kind: str | None = None) -> QuerySet[SchoolClass]:
    """The school's active classes (or subject groups, with `kind`) that a sign-in may see, by name."""
    classes = SchoolClass.objects.filter(school=school, status="active")
    if kind is not None:
        classes = classes.filter(kind=kind)
    if class_ids is not None:
        classes = classes.filter(pk__in=class_ids)
    return classes.order_by("name", "pk")


def find_class(school: School, class_ids: ClassIds, class_id: int) -> SchoolClass | None:
    """A class of this school that the sign-in may see (archived ones too, for an admin), or None."""
    if class_ids is not None and class_id not in class_ids:
        return None
    return SchoolClass.objects.filter(school=school, pk=class_id).first()


# -- searching and filtering -----------------------------------------------------------------------
def search(accounts: QuerySet[Account], text: str) -> QuerySet[Account]:
    """Each word of `text` must appear, case-insensitively, in the forename, surname or username."""
    for word in text.split():
        accounts = accounts.filter(
            Q(forename__icontains=word) | Q(surname__icontains=word) | Q(username__icontains=word)
        )
    return accounts


def _with_groups(accounts: QuerySet[Account]) -> QuerySet[Account]:
    groups = Membership.objects.filter(school_class__status="active").select_related("school_class")
    return accounts.select_related("registration_class").prefetch_related(
        Prefetch("memberships", queryset=groups.order_by("school_class__name"), to_attr="active_groups")
    )


def pupil_list(
    school: School, class_ids: ClassIds, *, text: str = "", class_id: int | None = None, year: str = ""
) -> QuerySet[Account]:
    """The Pupils tab: visible active pupils, searched and filtered, with their class and groups."""
    pupils = search(visible_pupils(school, class_ids), text)
    if class_id is not None:
        pupils = _in_classes(pupils, school, [class_id])
    if year:
        pupils = pupils.filter(year_group=year)
    return _with_groups(pupils).order_by("surname", "forename", "pk")


def staff_list(school: School, *, text: str = "", class_id: int | None = None) -> QuerySet[Account]:
    """The Staff tab (admins only): active staff with their classes and sign-in role."""
    staff = search(Account.objects.filter(school=school, role="staff", status="active"), text)
    if class_id is not None:
        staff = _in_classes(staff, school, [class_id])
    return _with_groups(staff).prefetch_related("logins").order_by("surname", "forename", "pk")


def archived_list(school: School, *, text: str = "", role: str = "") -> QuerySet[Account]:
    """The Archived tab (admins only): leavers, pupils and staff, as they were when they left."""
    archived = search(Account.objects.filter(school=school, status="archived"), text)
    if role:
        archived = archived.filter(role=role)
    return archived.select_related("registration_class").order_by("surname", "forename", "pk")


def class_list(school: School, class_ids: ClassIds, kind: str, *, text: str = "") -> QuerySet[SchoolClass]:
    """The Classes or Groups tab: the visible active classes of one kind, searched by name."""
    classes = visible_classes(school, class_ids, kind)
    for word in text.split():
        classes = classes.filter(name__icontains=word)
    return classes


@dataclass
class ClassRow:
    """A class with what its row shows: how many active pupils, and its teachers."""

    school_class: SchoolClass
    pupils: int = 0
    teachers: list[Account] = field(default_factory=list)


def class_rows(school: School, classes: Sequence[SchoolClass]) -> list[ClassRow]:
    """Rows for a page of classes, in three queries whatever the page size."""
    rows = {c.pk: ClassRow(c) for c in classes}
    registered = (
        Account.objects.filter(school=school, role="pupil", status="active", registration_class_id__in=rows)
        .values_list("registration_class_id")
        .annotate(count=Count("pk"))
    )
    members = (
        _members_of(school, rows)
        .filter(account__role="pupil", account__status="active")
        .values_list("school_class_id")
        .annotate(count=Count("pk"))
    )
    for class_id, count in [*registered, *members]:
        rows[class_id].pupils += count
    teachers = (
        _members_of(school, rows)
        .filter(account__role="staff", account__status="active")
        .select_related("account")
        .order_by("account__surname", "account__forename", "account_id")
    )
    for membership in teachers:
        rows[membership.school_class_id].teachers.append(membership.account)
    return list(rows.values())


def class_members(school: School, school_class: SchoolClass) -> tuple[list[Account], list[Account]]:
    """A class's active pupils (registered in it or members of it) and its active staff."""
    people = _with_groups(
        _in_classes(Account.objects.filter(school=school, status="active"), school, [school_class.pk])
    ).order_by("surname", "forename", "pk")
    pupils = [p for p in people if p.role == "pupil"]
    staff = [p for p in people if p.role == "staff"]
    return pupils, staff


@dataclass(frozen=True)
class TabCounts:
    pupils: int
    classes: int
    groups: int
    staff: int | None = None  # None: a tab this sign-in does not have
    archived: int | None = None


def tab_counts(school: School, class_ids: ClassIds) -> TabCounts:
    """The number shown on each tab, for what this sign-in may see (two or three queries)."""
    classes = SchoolClass.objects.filter(school=school, status="active")
    if class_ids is not None:
        classes = classes.filter(pk__in=class_ids)
    kinds = classes.aggregate(
        classes=Count("pk", filter=Q(kind=KIND_REGISTRATION)),
        groups=Count("pk", filter=Q(kind=KIND_SUBJECT)),
    )
    if class_ids is not None:
        return TabCounts(visible_pupils(school, class_ids).count(), kinds["classes"], kinds["groups"])
    accounts = Account.objects.filter(school=school).aggregate(
        pupils=Count("pk", filter=Q(role="pupil", status="active")),
        staff=Count("pk", filter=Q(role="staff", status="active")),
        archived=Count("pk", filter=Q(status="archived")),
    )
    return TabCounts(
        accounts["pupils"], kinds["classes"], kinds["groups"], accounts["staff"], accounts["archived"]
    )


# -- changes ---------------------------------------------------------------------------------------
def check_class_name(school: School, name: str, *, exclude: int | None = None) -> str:
    """The name cleaned as the MIS readers clean theirs; refused when empty, too long or already used.

    Another active class with the same name, even in another case, would be ambiguous to people and to
    a sync (which matches classes by exact name), so it is refused.
    """
    cleaned = clean_name(name)
    if not cleaned:
        raise InvalidInput("Enter a class name.")
    if len(cleaned) > MAX_CLASS_NAME:
        raise InvalidInput(
            f"A class name can be at most {MAX_CLASS_NAME} characters (this has {len(cleaned)})."
        )
    clash = SchoolClass.objects.filter(school=school, status="active", name__iexact=cleaned)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    taken = clash.values_list("name", flat=True).first()
    if taken is not None:
        raise InvalidInput(f'Another class is already called "{taken}": choose a different name.')
    return cleaned


def rename_class(school: School, school_class: SchoolClass, name: str) -> bool:
    """Rename a class of this school; False when the name is unchanged (nothing written)."""
    if school_class.school_id != school.pk:
        raise InvalidInput("That class is not in this school.")
    with transaction.atomic():
        cleaned = check_class_name(school, name, exclude=school_class.pk)
        if cleaned == school_class.name:
            return False
        SchoolClass.objects.filter(school=school, pk=school_class.pk).update(name=cleaned)
        school_class.name = cleaned
        record_manual_change(school)
    return True


def restore_account(school: School, account_id: int) -> Account:
    """Make an archived account of this school active again; it keeps its username and password."""
    with transaction.atomic():
        account = (
            Account.objects.select_for_update()
            .filter(school=school, pk=account_id, status="archived")
            .first()
        )
        if account is None:
            raise InvalidInput("That user is not archived in this school.")
        account.status = "active"
        account.save(update_fields=["status"])
        record_manual_change(school)
    return account


def add_user_by_hand(
    school: School,
    *,
    forename: str,
    surname: str,
    role: str,
    school_class: SchoolClass | None = None,
    new_class_name: str = "",
    year: str = "",
    email: str = "",
    dob: dt.date | None = None,
) -> tuple[Account, str | None]:
    """Add a pupil or member of staff (see `services.add_user`) in an existing class or a new one.

    The class is chosen here by id, not by name, so an archived class with the same name is never picked;
    a typed name that matches an active class (in any case) joins that class rather than making a twin.
    Everything is written in one transaction, or nothing.
    """
    if school_class is not None and school_class.school_id != school.pk:
        raise InvalidInput("That class is not in this school.")
    with transaction.atomic():
        if school_class is None and clean_name(new_class_name):
            cleaned = clean_name(new_class_name)
            school_class = SchoolClass.objects.filter(
                school=school, status="active", name__iexact=cleaned
            ).first() or SchoolClass.objects.create(
                school=school, name=check_class_name(school, cleaned), kind=KIND_REGISTRATION
            )
        account, password = add_user(
            school,
            forename=forename,
            surname=surname,
            role=role,
            year=(year or None) if role == "pupil" else None,
            email=email or None,
            dob=dob,
        )
        if school_class is not None:
            if role == "pupil":
                Account.objects.filter(pk=account.pk).update(registration_class=school_class)
                account.registration_class = school_class
            else:
                Membership.objects.create(school=school, account=account, school_class=school_class)
            record_manual_change(school)
    return account, password


def staff_email_taken(school: School, email: str) -> bool:
    return Account.objects.filter(school=school, role="staff", status="active", email__iexact=email).exists()
