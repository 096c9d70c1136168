"""What the MIS says about a school, normalised: people, groups and the problems found reading them.

Every source (OneRoster, spreadsheets, Wonde, Xporter, SDS) produces a `Roster`. Reading never raises on
bad data: a bad row becomes a `Problem` and, where the person can still be identified, a `Person` whose
`problems` keep them out of the run (so they are reported, never silently dropped, never made leavers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["pupil", "staff"]
GroupKind = Literal["registration", "subject"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """Something wrong in the input, said so a school administrator can fix it in the MIS.

    `file`/`row`/`column` locate it (row is the 1-based line number of the file, header included);
    `message` says what is wrong, `fix` says how to put it right.
    """

    message: str
    fix: str = ""
    file: str = ""
    row: int | None = None
    column: str = ""
    severity: Severity = "error"
    person: str = ""  # the roster key of the person concerned, when there is one

    def describe(self) -> str:
        """One line: where, what, and how to fix it."""
        where = self.file
        if self.row is not None:
            where = f"{where} row {self.row}" if where else f"row {self.row}"
        if self.column:
            where = f"{where}, column {self.column}" if where else f"column {self.column}"
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} {self.fix}".strip() if self.fix else text

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
            "person": self.person,
        }


@dataclass(frozen=True)
class Group:
    """A registration group (becomes a class) or a subject (teaching) group, as the MIS names it.

    `key` is the group's id in the source (a OneRoster sourcedId, a Wonde id); spreadsheets, which have
    no ids, use the name. It is what people's `registration_group`/`groups` refer to.
    """

    key: str
    name: str
    kind: GroupKind
    mis_id: str | None = None  # the id to remember on the platform's class; None when the source has none


@dataclass(frozen=True)
class Person:
    """One pupil or member of staff as the MIS has them.

    `key` is unique within the roster (the source's id for the person). `forename`/`surname` are the
    names the person is known by (preferred names win); `legal_*` are kept when the MIS gives them.
    `registration_group` is the key of a pupil's registration group; `groups` are the keys of the other
    groups they belong to (a pupil's subject groups; every class or group a member of staff teaches).
    `year` is the MIS's own year name, mapped to the platform's year groups when planning.
    """

    key: str
    role: Role
    forename: str
    surname: str
    legal_forename: str = ""
    legal_surname: str = ""
    mis_id: str | None = None
    upn: str | None = None
    former_upn: str | None = None
    upi: str | None = None
    email: str | None = None
    year: str | None = None
    registration_group: str | None = None
    groups: tuple[str, ...] = ()
    dob: dt.date | None = None
    problems: tuple[Problem, ...] = ()  # errors here keep this person out of the run

    @property
    def display_name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


@dataclass
class Roster:
    """A whole read of a source.

    `complete` is True for a full (bulk) read, where anyone absent has left. A delta read sets it False:
    absence then means "unchanged", and only the keys in `removed` have left.
    `source` names the source kind (``"oneroster"``, ``"spreadsheet"``, ``"wonde"``...), used to remember
    each account's link to the provider's id for that person.
    """

    source: str
    people: list[Person] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True
    removed: set[str] = field(default_factory=set)
    description: str = ""  # e.g. "OneRoster 1.2 bulk, oneroster.zip"

    def add_group(self, group: Group) -> Group:
        """Add a group, keeping the first one seen under a key."""
        return self.groups.setdefault(group.key, group)

    @property
    def fatal_problems(self) -> list[Problem]:
        """Problems that are not about one person: the read as a whole cannot be trusted."""
        return [p for p in self.problems if p.severity == "error" and not p.person]


class SourceError(Exception):
    """The input cannot be read at all (unknown format, missing file, provider failed mid-read).

    The message is one line for a school administrator: what is wrong and how to fix it.
    """
