"""The plan of one sync: every line of the summary, with the person or class and the change.

`missync.core.planning.build_plan` makes a `Plan`; the store applies it; the wizard and the CLI show it
(`Plan.summary`, `Plan.lines`, `Plan.as_json`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .roster import Problem
from .snapshot import AccountValues, ClassRef, ClassValues, DuplicateDecision

SUMMARY_KEYS = (
    "new_pupils",
    "new_staff",
    "updated",
    "moved",
    "leavers",
    "restored",
    "new_classes",
    "removed_classes",
    "possible_duplicates",
    "errors",
    "unchanged",
)
PersonKind = Literal[
    "new_pupils", "new_staff", "updated", "moved", "leavers", "restored", "possible_duplicates"
]
ClassKind = Literal["new", "restored", "renamed", "relinked", "removed"]


@dataclass(frozen=True, slots=True)
class PersonChange:
    """One account the plan creates or changes. `before` is None for a new account."""

    kind: PersonKind
    account_id: int | None
    person_key: str | None
    before: AccountValues | None
    after: AccountValues
    changes: tuple[str, ...] = ()
    password: str | None = None  # new pupils only; never shown in the plan's JSON


@dataclass(frozen=True, slots=True)
class ClassChange:
    """A class the plan creates, restores, renames, relinks to a new MIS id, or archives."""

    kind: ClassKind
    ref: ClassRef
    before: ClassValues | None
    after: ClassValues


@dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    """An MIS person who may be an account made by hand, and what the admin decided."""

    person_key: str
    name: str
    role: str
    account_id: int
    account_username: str
    account_name: str
    decision: DuplicateDecision


@dataclass(frozen=True, slots=True)
class PersonError:
    """Someone who will not be imported, with each reason and its fix."""

    person_key: str
    name: str
    role: str
    problems: tuple[Problem, ...]


@dataclass
class Plan:
    """Everything a sync would do. Nothing is written until the store applies it."""

    source: str
    complete: bool
    roster_size: int
    snapshot_revision: int
    people: list[PersonChange] = field(default_factory=list)
    classes: list[ClassChange] = field(default_factory=list)
    duplicates: list[PossibleDuplicate] = field(default_factory=list)
    errors: list[PersonError] = field(default_factory=list)
    unchanged: list[tuple[int, str, str]] = field(default_factory=list)  # (account id, username, name)
    problems: list[Problem] = field(default_factory=list)
    unmapped_year_groups: list[str] = field(default_factory=list)
    hold_reasons: list[str] = field(default_factory=list)
    class_names: dict[ClassRef, str] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return bool(self.hold_reasons)

    @property
    def has_changes(self) -> bool:
        return bool(self.people or self.classes)

    def people_of(self, kind: PersonKind) -> Iterator[PersonChange]:
        return (change for change in self.people if change.kind == kind)

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SUMMARY_KEYS, 0)
        for change in self.people:
            if change.kind != "possible_duplicates":
                counts[change.kind] += 1
        for class_change in self.classes:
            if class_change.kind in ("new", "restored"):
                counts["new_classes"] += 1
            elif class_change.kind == "removed":
                counts["removed_classes"] += 1
        counts["possible_duplicates"] = len(self.duplicates)
        counts["errors"] = len(self.errors)
        counts["unchanged"] = len(self.unchanged)
        return counts

    def lines(self) -> dict[str, list[dict[str, Any]]]:
        """One list per summary key, each entry naming the person or class and the change."""
        lines: dict[str, list[dict[str, Any]]] = {key: [] for key in SUMMARY_KEYS}
        for change in self.people:
            if change.kind == "possible_duplicates":
                continue
            after = change.after
            lines[change.kind].append(
                {
                    "name": after.display_name,
                    "username": after.username,
                    "role": after.role,
                    "year_group": after.year_group,
                    "registration_group": self.class_names.get(after.registration_class or ""),
                    "change": "; ".join(change.changes),
                }
            )
        for class_change in self.classes:
            key = {"new": "new_classes", "restored": "new_classes", "removed": "removed_classes"}.get(
                class_change.kind
            )
            if key:
                lines[key].append(
                    {
                        "class": class_change.after.name,
                        "kind": class_change.after.kind,
                        "change": _class_change_text(class_change),
                    }
                )
        for dup in self.duplicates:
            lines["possible_duplicates"].append(
                {
                    "name": dup.name,
                    "role": dup.role,
                    "person": dup.person_key,
                    "account": dup.account_username,
                    "account_name": dup.account_name,
                    "decision": dup.decision,
                    "change": _DECISION_TEXT[dup.decision].format(username=dup.account_username),
                }
            )
        for error in self.errors:
            lines["errors"].append(
                {
                    "name": error.name,
                    "role": error.role,
                    "person": error.person_key,
                    "reasons": [p.message for p in error.problems],
                    "fixes": [p.fix for p in error.problems if p.fix],
                    "change": "not imported: " + "; ".join(p.message for p in error.problems),
                }
            )
        for _, username, name in self.unchanged:
            lines["unchanged"].append({"name": name, "username": username, "change": "no change"})
        return lines

    def as_json(self) -> dict[str, Any]:
        """The review document printed by `preview --json` (no passwords in it)."""
        return {
            "summary": self.summary(),
            "held": self.held,
            "hold_reasons": list(self.hold_reasons),
            "unmapped_year_groups": list(self.unmapped_year_groups),
            "lines": self.lines(),
            "class_changes": [
                {"class": c.after.name, "kind": c.kind, "change": _class_change_text(c)} for c in self.classes
            ],
            "problems": [p.as_dict() for p in self.problems],
            "source": self.source,
            "complete": self.complete,
            "roster_size": self.roster_size,
        }


_DECISION_TEXT: dict[DuplicateDecision, str] = {
    "link": "same person: links to the existing account {username}, which keeps its login",
    "new": "different person: a new account will be made",
    "skip": "undecided: left out of this sync until you decide (existing account {username})",
}


def _class_change_text(change: ClassChange) -> str:
    if change.kind == "new":
        return "new class" if change.after.kind == "registration" else "new subject group"
    if change.kind == "restored":
        return "restored from archive"
    if change.kind == "renamed" and change.before:
        return f"renamed from {change.before.name}"
    if change.kind == "relinked":
        return "matched by name (new MIS id)"
    return "archived: no longer in the MIS"
