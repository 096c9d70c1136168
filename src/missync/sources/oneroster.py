"""OneRoster 1.1 and 1.2 CSV (a zip or a folder), bulk or delta, read into a `Roster`.

Reading is forgiving about what real files do (BOMs, no final newline, header typos, extra or blank
columns, `Scheduled`/`HOMEROOM`) and strict about what would make a sync wrong: a bad row becomes a
problem naming file, row and column, never a crash and never a silently dropped person.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from missync.core.names import clean_name
from missync.core.roster import Group, GroupKind, Person, Problem, Role, Roster, SourceError
from missync.sources.common import (
    FileSet,
    PathLike,
    PersonEntry,
    Table,
    TableRow,
    finish_people,
    read_csv_table,
    sort_problems,
    with_problem,
)

_PUPIL_ROLES = frozenset({"student"})
_STAFF_ROLES = frozenset({"teacher", "administrator", "aide", "counselor", "principal"}) | frozenset(
    {"districtadministrator", "siteadministrator", "systemadministrator"}
)
# Not platform users: read past without a word.
_IGNORED_ROLES = frozenset({"guardian", "parent", "relative", "proctor"})
# `inactive` is OneRoster 1.0's word for tobedeleted, still seen in real feeds.
_REMOVED_STATUSES = frozenset({"tobedeleted", "inactive"})
_REQUIRED_USER_COLUMNS = ("sourcedId", "givenName", "familyName")
_USER_ID = re.compile(r"\{\s*([^{}:]*?)\s*:\s*([^{}]*?)\s*\}")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_FIX_CLASS = "Fix: check the class in the MIS (or the OneRoster export settings), then sync again."

# Person fields -> OneRoster users.csv headers, so problems name the column the school will look for.
_USER_COLUMNS = {
    "forename": "givenName",
    "surname": "familyName",
    "email": "email",
    "key": "sourcedId",
    "mis_id": "identifier",
    "upn": "userIds",
    "registration_group": "",
}


@dataclass(frozen=True)
class Manifest:
    """What manifest.csv says: the OneRoster version and each file's mode (bulk, delta or absent)."""

    version: str
    modes: dict[str, str]
    found: bool

    def mode(self, name: str) -> str:
        """The mode of a file such as "users": delta, absent, or bulk (also when not listed or unclear)."""
        mode = self.modes.get(name.lower(), "bulk")
        return mode if mode in ("delta", "absent") else "bulk"


@dataclass
class _Draft:
    """A person being read: their enrolments are added before the `Person` is frozen."""

    person: Person
    row: int
    homerooms: list[tuple[str, int]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def read_oneroster(path: PathLike) -> Roster:
    """Read a OneRoster 1.1 or 1.2 CSV set (zip or folder) into a `Roster`.

    manifest.csv decides bulk or delta per file; without one, the set is read as bulk with a warning.
    A delta users.csv gives `complete=False`: people marked tobedeleted (or inactive) go to `removed`,
    everyone absent is unchanged. Raises `SourceError` when the set cannot be read: not a zip or folder,
    no users.csv in a bulk set, or a required column missing.
    """
    files = FileSet.open(path)
    manifest = _read_manifest(files)
    roster = Roster(source="oneroster")
    if not manifest.found:
        roster.problems.append(
            Problem(
                "There is no manifest.csv, so this set was read as a full (bulk) OneRoster 1.1 export.",
                "Fix: export the full OneRoster set including manifest.csv if this was a delta.",
                files.label,
                severity="warning",
            )
        )
    roster.complete = manifest.mode("users") == "bulk"
    users = _users_table(files, manifest)
    roles = _read_roles(files)
    if users is not None and not users.has("role") and users.rows and not roles:
        raise SourceError(
            "users.csv: has no role column and there is no roles.csv: expected a OneRoster 1.1 users.csv "
            "with a role column, or a 1.2 set with roles.csv"
        )
    _read_classes(files, roster)
    ignored: set[str] = set()
    drafts = _read_users(users, roles, ignored, roster) if users is not None else {}
    _read_demographics(files, drafts, roster)
    _read_enrollments(files, manifest, drafts, ignored, roster)
    finish_people(roster, [_entry(draft, roster) for draft in _drafts_in_order(drafts)])
    sort_problems(roster)
    kind = "bulk" if roster.complete else "delta"
    roster.description = f"OneRoster {manifest.version} {kind}, {files.label}"
    return roster


def _drafts_in_order(drafts: dict[str, list[_Draft]]) -> list[_Draft]:
    """Every draft, in users.csv order (repeated sourcedIds included, so they are reported)."""
    return sorted((draft for same in drafts.values() for draft in same), key=lambda draft: draft.row)


def _read_manifest(files: FileSet) -> Manifest:
    data = files.read("manifest.csv")
    if data is None:
        return Manifest("1.1", {}, found=False)
    table = read_csv_table(data, "manifest.csv")
    if not table.has("propertyname") or not table.has("value"):
        raise SourceError("manifest.csv: expected the columns propertyName,value")
    properties = {row.get("propertyname").lower(): row.get("value") for row in table.rows}
    modes = {
        name.removeprefix("file."): value.strip().lower()
        for name, value in properties.items()
        if name.startswith("file.")
    }
    return Manifest(properties.get("oneroster.version") or "1.1", modes, found=True)


def _users_table(files: FileSet, manifest: Manifest) -> Table | None:
    data = files.read("users.csv")
    if data is None:
        # Only a delta may leave users out (no user changed); a bulk set without users would make
        # everyone a leaver.
        if manifest.mode("users") != "absent" or "delta" not in manifest.modes.values():
            raise SourceError(
                f"{files.label}: has no users.csv: expected a OneRoster set with users.csv "
                "(and classes.csv, enrollments.csv)"
            )
        return None
    table = read_csv_table(data, "users.csv")
    for column in _REQUIRED_USER_COLUMNS:
        if not table.has(column.lower()):
            raise SourceError(f"users.csv: has no {column} column: expected the OneRoster users.csv header")
    return table


def _status_removed(row: TableRow) -> bool:
    return row.get("status").lower() in _REMOVED_STATUSES


def _read_roles(files: FileSet) -> dict[str, tuple[str, int]]:
    """Users' roles from roles.csv (1.2) with their lines: the primary role wins, else the first."""
    data = files.read("roles.csv")
    if data is None:
        return {}
    chosen: dict[str, tuple[bool, str, int]] = {}
    for row in read_csv_table(data, "roles.csv").rows:
        user, role = row.get("usersourcedid"), row.get("role")
        if not user or not role or _status_removed(row):
            continue
        primary = row.get("roletype").lower() == "primary"
        if user not in chosen or (primary and not chosen[user][0]):
            chosen[user] = (primary, role, row.line)
    return {user: (role, line) for user, (_, role, line) in chosen.items()}


def _group_kind(class_type: str) -> GroupKind | None:
    lowered = class_type.strip().lower()
    return "registration" if lowered == "homeroom" else "subject" if lowered == "scheduled" else None


def _read_classes(files: FileSet, roster: Roster) -> None:
    data = files.read("classes.csv")
    if data is None:
        return
    table = read_csv_table(data, "classes.csv")
    for row in table.rows:
        key = row.get("sourcedid")
        if not key or _status_removed(row):
            continue
        kind = _group_kind(row.get("classtype"))
        if kind is None:
            message = f"Class {key} has classType {row.get('classtype')!r}, not homeroom or scheduled: "
            fix = "Fix: mark registration groups as homeroom classes in the MIS, then sync again."
            roster.problems.append(
                _warning(table, row, "classType", message + "read as a subject group.", fix)
            )
        title = row.get("title")
        if not title:
            message = f"Class {key} has no title: it is named by its id."
            roster.problems.append(_warning(table, row, "title", message, _FIX_CLASS))
        roster.add_group(Group(key, clean_name(title) or key, kind or "subject", mis_id=key))


def _role_kind(role: str) -> Role | str:
    lowered = role.strip().lower()
    if lowered in _PUPIL_ROLES:
        return "pupil"
    if lowered in _STAFF_ROLES:
        return "staff"
    return "ignored" if lowered in _IGNORED_ROLES else "unknown"


def _user_ids(text: str) -> dict[str, str]:
    """`{UPN:A123},{LDAP:12}` -> {"upn": "A123", "ldap": "12"} (types compared ignoring case; first wins)."""
    ids: dict[str, str] = {}
    for kind, value in _USER_ID.findall(text):
        key = "".join(char for char in kind.casefold() if char.isalnum())
        if value:
            ids.setdefault(key, value)
    return ids


def _read_users(
    users: Table, roles: dict[str, tuple[str, int]], ignored: set[str], roster: Roster
) -> dict[str, list[_Draft]]:
    drafts: dict[str, list[_Draft]] = {}
    for row in users.rows:
        key = row.get("sourcedid")
        if not key:
            roster.problems.append(
                Problem(
                    "This user has no sourcedId, so they cannot be identified.",
                    "Fix: check the OneRoster export from the MIS; every user needs a sourcedId.",
                    users.file,
                    row.line,
                    users.header("sourcedid", "sourcedId"),
                )
            )
            continue
        if _status_removed(row):
            roster.removed.add(key)
            continue
        raw_role, role_file, role_line = row.get("role"), users.file, row.line
        if key in roles:
            raw_role, role_line = roles[key]
            role_file = "roles.csv"
        role = _role_kind(raw_role)
        if role == "ignored":
            ignored.add(key)
            continue
        if role == "unknown" and not raw_role:
            # Someone with no role might be a current pupil: keep them (kept out by their problem) so a
            # bulk sync does not make them a leaver.
            guessed: Role = "pupil" if row.get("grades") or not row.get("email") else "staff"
            file, line = (users.file, row.line) if users.has("role") else ("roles.csv", None)
            fix = "Fix: give them the role student or teacher in the MIS, then sync again."
            problem = Problem(f"User {key} has no role.", fix, file, line, "role", person=key)
            person = with_problem(_person(key, guessed, row), problem)
            drafts.setdefault(key, []).append(_Draft(person, row.line))
            continue
        if role == "unknown":
            ignored.add(key)
            roster.problems.append(
                Problem(
                    f"User {key} has the role {raw_role!r}, which missync does not sync: left out.",
                    "Fix: give them the role student or teacher in the MIS if they need an account.",
                    role_file,
                    role_line,
                    "role",
                    "warning",
                )
            )
            continue
        person = _person(key, "pupil" if role == "pupil" else "staff", row)
        drafts.setdefault(key, []).append(_Draft(person, row.line))
    return drafts


def _person(key: str, role: Role, row: TableRow) -> Person:
    given, family = clean_name(row.get("givenname")), clean_name(row.get("familyname"))
    preferred_given = clean_name(row.get("preferredgivenname"))
    preferred_family = clean_name(row.get("preferredfamilyname"))
    # In 1.2, givenName/familyName are the legal names when a preferred name is also given.
    has_preferred = bool(preferred_given or preferred_family)
    ids = _user_ids(row.get("userids"))
    grades = [grade.strip() for grade in row.get("grades").split(",") if grade.strip()]
    return Person(
        key=key,
        role=role,
        forename=preferred_given or given,
        surname=preferred_family or family,
        legal_forename=given if has_preferred else "",
        legal_surname=family if has_preferred else "",
        mis_id=row.get("identifier") or key,
        upn=ids.get("upn") or None,
        former_upn=ids.get("formerupn") or None,
        upi=ids.get("upi") or None,
        email=row.get("email") or None,
        year=grades[0] if grades and role == "pupil" else None,
    )


def _parse_birth_date(text: str) -> tuple[dt.date | None, str]:
    """ISO dates (a time part is ignored); US m/d/yyyy is accepted with a warning message."""
    try:
        return dt.date.fromisoformat(text[:10]), ""
    except ValueError:
        pass
    match = _US_DATE.fullmatch(text)
    if match:
        month, day, year = (int(part) for part in match.groups())
        try:
            us_date = dt.date(year, month, day)
        except ValueError:
            us_date = None
        if us_date is not None:
            return us_date, f"The birthDate {text!r} is a US date (month/day/year), not ISO."
    return None, f"The birthDate {text!r} is not a date: it is left out."


def _read_demographics(files: FileSet, drafts: dict[str, list[_Draft]], roster: Roster) -> None:
    data = files.read("demographics.csv")
    if data is None:
        return
    table = read_csv_table(data, "demographics.csv")
    for row in table.rows:
        text = row.get("birthdate")
        if not text or row.get("sourcedid") not in drafts:
            continue  # guardians and other users missync does not sync have demographics too
        dob, warning = _parse_birth_date(text)
        for draft in drafts[row.get("sourcedid")]:
            draft.person = replace(draft.person, dob=dob)
            if warning:
                fix = "Fix: the OneRoster export should give dates as yyyy-mm-dd."
                draft.person = with_problem(draft.person, _warning(table, row, "birthDate", warning, fix))


def _warning(table: Table, row: TableRow, column: str, message: str, fix: str) -> Problem:
    """A warning about one cell: `column` is the OneRoster header (found in the file ignoring case)."""
    return Problem(message, fix, table.file, row.line, table.header(column.lower(), column), "warning")


def _dangling(table: Table, row: TableRow, column: str, what: str, delta: bool) -> Problem:
    file_name = "classes.csv" if what == "class" else "users.csv"
    missing_from = f"this delta's {file_name}" if delta else file_name
    message = (
        f"Enrolment {row.get('sourcedid') or '(no id)'} refers to {what} "
        f"{row.get(column.lower())!r}, which is not in {missing_from}: the enrolment is left out."
    )
    fix = "Fix: check the OneRoster export from the MIS is complete, then sync again."
    return _warning(table, row, column, message, fix)


def _read_enrollments(
    files: FileSet, manifest: Manifest, drafts: dict[str, list[_Draft]], ignored: set[str], roster: Roster
) -> None:
    data = files.read("enrollments.csv")
    if data is None:
        if drafts and manifest.mode("enrollments") != "absent":
            roster.problems.append(
                Problem(
                    "There is no enrollments.csv, so no one is in a class or group.",
                    "Fix: export the full OneRoster set, including enrollments.csv.",
                    files.label,
                    severity="warning",
                )
            )
        return
    table = read_csv_table(data, "enrollments.csv")
    for row in table.rows:
        user, class_key = row.get("usersourcedid"), row.get("classsourcedid")
        if _status_removed(row) or _role_kind(row.get("role")) == "ignored":
            continue
        if user in ignored or user in roster.removed:
            continue
        if user not in drafts:
            delta = manifest.mode("users") == "delta"
            roster.problems.append(_dangling(table, row, "userSourcedId", "user", delta))
            continue
        group = roster.groups.get(class_key)
        if group is None:
            delta = manifest.mode("classes") == "delta"
            roster.problems.append(_dangling(table, row, "classSourcedId", "class", delta))
            continue
        draft = drafts[user][0]
        _enrol(draft, group, row, table)


def _enrol(draft: _Draft, group: Group, row: TableRow, table: Table) -> None:
    person = draft.person
    enrolled_as = _role_kind(row.get("role"))
    if enrolled_as in ("pupil", "staff") and enrolled_as != person.role:
        # users.csv decides who someone is; the class still counts as theirs.
        who, relation = ("staff", "teach") if person.role == "staff" else ("a pupil", "attend")
        message = (
            f"{person.display_name} is {who} in users.csv but is enrolled in {group.name!r} "
            f"as {row.get('role')}: it is read as a class they {relation}."
        )
        fix = "Fix: correct the role of the enrolment (or of the user) in the MIS, then sync again."
        draft.person = with_problem(person, _warning(table, row, "role", message, fix))
    if person.role == "pupil" and group.kind == "registration":
        draft.homerooms.append((group.key, row.line))
    elif group.key not in draft.groups:
        draft.groups.append(group.key)


def _entry(draft: _Draft, roster: Roster) -> PersonEntry:
    person = draft.person
    homerooms = list(dict.fromkeys(key for key, _ in draft.homerooms))
    if len(homerooms) > 1:
        names = ", ".join(repr(roster.groups[key].name) for key in homerooms)
        person = with_problem(
            person,
            Problem(
                f"{person.display_name} is in more than one registration group ({names}): "
                f"{roster.groups[homerooms[0]].name!r} is used.",
                "Fix: leave the pupil in one homeroom class in the MIS, then sync again.",
                "enrollments.csv",
                next(line for key, line in draft.homerooms if key != homerooms[0]),
                "classSourcedId",
                "warning",
            ),
        )
    person = replace(
        person,
        registration_group=homerooms[0] if homerooms else None,
        groups=tuple(draft.groups),
    )
    return PersonEntry(person, "users.csv", draft.row, _USER_COLUMNS)
