"""What the platform holds for one school now, as plain values, and the wizard's choices.

The store loads a `Snapshot`; `build_plan` compares it with a `Roster`. Classes are referred to by
`ClassRef` strings: ``"c:<id>"`` for a class the platform has, ``"n:<roster group key>"`` for a class a
plan will create. An account's memberships use the same refs, so a plan's "after" state can point at a
class that does not exist yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .roster import GroupKind, Role
from .usernames import DEFAULT_USERNAME_FORMAT

ClassRef = str
Status = Literal["active", "archived"]
DuplicateDecision = Literal["link", "new", "skip"]
DUPLICATE_DECISIONS: tuple[DuplicateDecision, ...] = ("link", "new", "skip")


def existing_ref(class_id: int) -> ClassRef:
    return f"c:{class_id}"


def new_ref(group_key: str) -> ClassRef:
    return f"n:{group_key}"


def ref_id(ref: ClassRef) -> int | None:
    """The database id of an existing class's ref; None for a class a plan creates."""
    return int(ref[2:]) if ref.startswith("c:") else None


@dataclass(frozen=True, slots=True)
class AccountValues:
    """Everything a sync may read or write about one account (never its credential).

    `source`/`source_id` are the stored link to the MIS record (empty for an account made by hand:
    such an account is never changed or archived by a sync).
    """

    role: Role
    username: str
    forename: str
    surname: str
    legal_forename: str = ""
    legal_surname: str = ""
    status: Status = "active"
    year_group: str | None = None
    registration_class: ClassRef | None = None
    groups: frozenset[ClassRef] = frozenset()
    email: str | None = None
    dob: dt.date | None = None
    upn: str | None = None
    former_upn: str | None = None
    upi: str | None = None
    mis_id: str | None = None
    source: str = ""
    source_id: str = ""

    @property
    def linked(self) -> bool:
        """True when the account is linked to an MIS record (made or adopted by a sync)."""
        return bool(self.source)

    @property
    def display_name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


@dataclass(frozen=True, slots=True)
class ClassValues:
    """A class (registration group) or subject group on the platform."""

    name: str
    kind: GroupKind = "registration"
    mis_id: str | None = None
    source: str = ""  # empty: made by hand
    status: Status = "active"

    @property
    def linked(self) -> bool:
        return bool(self.source)


@dataclass
class Snapshot:
    """The school's accounts and classes as the store has them, and the store's revision.

    `revision` increases with every write to the school; apply refuses a plan made at another revision.
    `last_roster_size` is how many people the last applied full roster held (for the truncation check).
    """

    accounts: dict[int, AccountValues] = field(default_factory=dict)
    classes: dict[ClassRef, ClassValues] = field(default_factory=dict)
    revision: int = 0
    last_roster_size: int | None = None


@dataclass(frozen=True)
class Choices:
    """The wizard's answers. Username and password formats apply to new users only.

    `password_formats` maps a platform year group to a password format (missing: the default for that
    year). `year_map` maps MIS year names to platform year groups (remembered per school).
    `subject_groups` names the subject groups to import (None: all of them).
    `duplicates` holds a decision per roster person key; `duplicate_default` applies to the rest
    ("skip": left out of the run and reported; "link": "Resolve all duplicates").
    """

    pupil_username_format: str = DEFAULT_USERNAME_FORMAT
    staff_username_format: str = DEFAULT_USERNAME_FORMAT
    password_formats: Mapping[str, str] = field(default_factory=dict)
    year_map: Mapping[str, str] = field(default_factory=dict)
    subject_groups: frozenset[str] | None = None
    duplicates: Mapping[str, DuplicateDecision] = field(default_factory=dict)
    duplicate_default: DuplicateDecision = "skip"
    hold_threshold: float = 0.10
    truncation_ratio: float = 0.5
