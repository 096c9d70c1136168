"""Reading a school's state as a core `Snapshot`, and turning values into rows and back, in bulk.

Loading uses a handful of queries whatever the school's size (no query per pupil).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from missync.core.snapshot import AccountValues, ClassRef, ClassValues, Snapshot, existing_ref, ref_id

from .models import Account, Membership, School, SchoolClass

ACCOUNT_FIELDS = (
    "role", "username", "forename", "surname", "legal_forename", "legal_surname", "status", "year_group",
    "email", "dob", "upn", "former_upn", "upi", "mis_id", "source", "source_id",
)  # fmt: skip
CLASS_FIELDS = ("name", "kind", "mis_id", "source", "status")


class SchoolNotFound(LookupError):
    pass


def get_school(slug: str) -> School:
    try:
        return School.objects.get(slug=slug)
    except School.DoesNotExist:
        raise SchoolNotFound(
            f"there is no school '{slug}': create it with `missync school add {slug} --name NAME`"
        ) from None


def load_snapshot(school: School) -> Snapshot:
    """The school's accounts, classes and memberships as plain values."""
    classes = {
        existing_ref(row[0]): ClassValues(*row[1:])
        for row in SchoolClass.objects.filter(school=school).values_list("id", *CLASS_FIELDS)
    }
    groups: dict[int, set[ClassRef]] = defaultdict(set)
    for account_id, class_id in Membership.objects.filter(school=school).values_list(
        "account_id", "school_class_id"
    ):
        groups[account_id].add(existing_ref(class_id))
    accounts: dict[int, AccountValues] = {}
    rows = Account.objects.filter(school=school).values_list("id", "registration_class_id", *ACCOUNT_FIELDS)
    empty: frozenset[ClassRef] = frozenset()
    for row in rows.iterator(chunk_size=5000):
        account_id, class_id = row[0], row[1]
        values = dict(zip(ACCOUNT_FIELDS, row[2:], strict=True))
        accounts[account_id] = AccountValues(
            **values,
            registration_class=existing_ref(class_id) if class_id else None,
            groups=frozenset(groups[account_id]) if account_id in groups else empty,
        )
    return Snapshot(
        accounts=accounts, classes=classes, revision=school.revision, last_roster_size=school.last_roster_size
    )


Resolve = Callable[[ClassRef], int]


def account_row_values(values: AccountValues, resolve: Resolve) -> dict[str, Any]:
    """Model field values for an account (registration class resolved to a database id)."""
    row = {name: getattr(values, name) for name in ACCOUNT_FIELDS}
    row["registration_class_id"] = resolve(values.registration_class) if values.registration_class else None
    return row


def resolver(created: Mapping[ClassRef, int]) -> Resolve:
    """Maps a class ref to its database id: existing classes by their ref, new ones by `created`."""

    def resolve(ref: ClassRef) -> int:
        found = ref_id(ref)
        return found if found is not None else created[ref]

    return resolve


def account_to_json(values: AccountValues, resolve: Resolve) -> dict[str, Any]:
    """An account's values for the history (class refs resolved, so they stay valid after the run)."""
    data = asdict(values)
    data["dob"] = values.dob.isoformat() if values.dob else None
    data["registration_class"] = (
        existing_ref(resolve(values.registration_class)) if values.registration_class else None
    )
    data["groups"] = sorted(existing_ref(resolve(ref)) for ref in values.groups)
    return data


def account_from_json(data: Mapping[str, Any]) -> AccountValues:
    values = dict(data)
    values["dob"] = dt.date.fromisoformat(values["dob"]) if values.get("dob") else None
    values["groups"] = frozenset(values.get("groups") or ())
    return AccountValues(**values)


def class_to_json(values: ClassValues) -> dict[str, Any]:
    return asdict(values)


def class_from_json(data: Mapping[str, Any]) -> ClassValues:
    return ClassValues(**data)
