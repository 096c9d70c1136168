"""Microsoft School Data Sync CSV sets, read into a `Roster`: SDS v1 (US and UK headers) and SDS v2.1.

SDS v1 is six files: School, Section, Student, Teacher, StudentEnrollment, TeacherRoster (US headers
`SIS ID`/`School SIS ID`/`Section SIS ID`; UK headers `ID`/`School DfE Number`/`Section ID`). SDS v2.1
is orgs, users, roles, classes and enrollments (demographics and courses optional). To SDS a missing
file means "all those records are gone"; to missync it is an error (`SourceError`), never mass leavers.

SDS has no registration groups as such: a section (class) is read as a registration group when its
name, course or subject says so ("Registration", "Reg Group", "Form", "Tutor Group", "Homeroom");
every other section is a subject group.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

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

V1_FILES = (
    "School.csv",
    "Section.csv",
    "Student.csv",
    "Teacher.csv",
    "StudentEnrollment.csv",
    "TeacherRoster.csv",
)
V2_FILES = ("orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv")
_REGISTRATION = re.compile(
    r"\b(registration|reg|reg group|form|form group|tutor group|homeroom|home room)\b", re.I
)
_UPN = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_INACTIVE = frozenset({"inactive", "deleted", "tobedeleted"})
_PUPIL_ROLES = frozenset({"student"})
_STAFF_ROLES = frozenset({"teacher", "administrator", "aide", "staff", "principal", "counselor"})
_PEOPLE_FILES: tuple[tuple[str, Role], ...] = (("Student.csv", "pupil"), ("Teacher.csv", "staff"))
_FIX = "Fix: correct the SDS export from the MIS, then sync again."


def sds_version(path: PathLike) -> str | None:
    """ "v1" or "v2.1" when the folder or zip holds an SDS set, else None."""
    location = Path(path)
    if not (location.is_dir() or location.suffix.lower() == ".zip"):
        return None
    try:
        files = FileSet.open(location, markers=(*(f.lower() for f in V1_FILES), "roles.csv"))
    except SourceError:
        return None
    if files.has("student.csv") or files.has("teacher.csv") or files.has("studentenrollment.csv"):
        return "v1"
    roles = files.read("roles.csv") if files.has("roles.csv") and not files.has("manifest.csv") else None
    if roles is not None:
        head = roles[:2048].decode("utf-8", errors="replace").lower()
        if "roletype" not in head and ("sessionsourcedid" in head or "isprimary" in head or "grade" in head):
            return "v2.1"
    return None


def read_sds(path: PathLike, *, school: str | None = None) -> Roster:
    """Read an SDS v1 or v2.1 CSV set (folder or zip) into a complete `Roster` (source "sds").

    `school` keeps only that school's records (its SIS ID / DfE number / org sourcedId); without it every
    school in the set is read as one. Raises `SourceError` when a file of the set or a required column is
    missing. Bad rows become problems naming the file, row and column.
    """
    version = sds_version(path)
    if version is None:
        raise SourceError(f"{Path(path).name}: is not an SDS CSV set: expected {', '.join(V1_FILES)}")
    files = FileSet.open(path, markers=(*(f.lower() for f in V1_FILES), "roles.csv"))
    roster = Roster(source="sds", complete=True)
    reader = _V1(files, roster, school) if version == "v1" else _V2(files, roster, school)
    reader.read()
    if not any(group.kind == "registration" for group in roster.groups.values()) and any(
        person.role == "pupil" for person in roster.people
    ):
        roster.problems.append(
            Problem(
                "No class in this SDS export is a registration group, so no pupil has one and pupils "
                "cannot be imported.",
                "Fix: include each pupil's registration group as a class whose course or subject is "
                '"Registration" in the SDS export, then sync again.',
                "Section.csv" if version == "v1" else "classes.csv",
                severity="warning",
            )
        )
    sort_problems(roster)
    roster.description = f"SDS {version} CSV, {files.label}"
    return roster


def _load(files: FileSet, name: str, required: Sequence[tuple[str, ...]], expected: str) -> Table:
    """A file of the set with its required columns (each given as the header keys that may mean it)."""
    data = files.read(name)
    if data is None:
        raise SourceError(
            f"{files.label}: has no {name}: expected the whole SDS set ({expected}). A missing file would "
            "make everyone in it a leaver, so nothing is read"
        )
    table = read_csv_table(data, name)
    for keys in required:
        if not any(table.has(key) for key in keys):
            raise SourceError(f"{name}: has no {keys[0]!r} column: expected the SDS {name} header")
    return table


def _first(row: TableRow, *keys: str) -> str:
    return next((row.get(key) for key in keys if row.get(key)), "")


def _is_registration(*texts: str) -> bool:
    return any(_REGISTRATION.search(text.replace("_", " ")) for text in texts if text)


def _date(text: str) -> tuple[dt.date | None, bool]:
    """A US m/d/yyyy or ISO date, and whether the text was a date at all."""
    if not text:
        return None, True
    match = _US_DATE.fullmatch(text.split(" ")[0])
    try:
        if match:
            month, day, year = (int(part) for part in match.groups())
            return dt.date(year, month, day), True
        return dt.date.fromisoformat(text[:10]), True
    except ValueError:
        return None, False


class _Reader:
    """What both SDS versions share: groups, people and their enrolments, then the shared checks."""

    files_label = ""

    def __init__(self, files: FileSet, roster: Roster, school: str | None) -> None:
        self.files, self.roster, self.school = files, roster, school
        self.entries: dict[str, PersonEntry] = {}
        self.order: list[str] = []
        self.registration: dict[str, list[str]] = {}
        self.groups: dict[str, list[str]] = {}

    def keep(self, row: TableRow, *school_keys: str) -> bool:
        return self.school is None or _first(row, *school_keys) == self.school

    def add_group(self, key: str, name: str, kind: GroupKind) -> None:
        self.roster.add_group(Group(key, clean_name(name) or key, kind, key))

    def add_person(self, table: Table, row: TableRow, person: Person, columns: dict[str, str]) -> None:
        if person.key in self.entries:
            self.order.append(person.key + f"#row{row.line}")
            self.entries[person.key + f"#row{row.line}"] = PersonEntry(person, table.file, row.line, columns)
            return
        self.order.append(person.key)
        self.entries[person.key] = PersonEntry(person, table.file, row.line, columns)

    def enrol(self, table: Table, row: TableRow, section: str, user: str, columns: tuple[str, str]) -> None:
        if section not in self.roster.groups or user not in self.entries:
            missing, column = (
                (section, columns[0]) if section not in self.roster.groups else (user, columns[1])
            )
            what = "class" if missing == section else "person"
            self.roster.problems.append(
                Problem(
                    f"This enrolment refers to the {what} {missing!r}, which is not in the export: "
                    "it is left out.",
                    _FIX,
                    table.file,
                    row.line,
                    table.header(column.lower(), column),
                    "warning",
                )
            )
            return
        entry = self.entries[user]
        group = self.roster.groups[section]
        if entry.person.role == "pupil" and group.kind == "registration":
            self.registration.setdefault(user, []).append(section)
        else:
            self.groups.setdefault(user, []).append(section)

    def _classes_from_only_sections(self) -> None:
        """With no section recognisably a registration group (a primary school's export may name its
        classes "3 Oak"), a section that is some pupil's only one is taken as that class."""
        pupils = {key for key in self.groups if self.entries[key].person.role == "pupil"}
        only = {self.groups[key][0] for key in pupils if len(set(self.groups[key])) == 1}
        for section in only:
            self.roster.groups[section] = replace(self.roster.groups[section], kind="registration")
        for key in pupils:
            homes = [section for section in self.groups[key] if section in only]
            if homes:
                self.registration[key] = homes
                self.groups[key] = [section for section in self.groups[key] if section not in only]

    def finish(self) -> None:
        if not any(group.kind == "registration" for group in self.roster.groups.values()):
            self._classes_from_only_sections()
        entries = []
        for key in self.order:
            entry = self.entries[key]
            homes = list(dict.fromkeys(self.registration.get(key, [])))
            person = entry.person
            if len(homes) > 1:
                names = ", ".join(repr(self.roster.groups[h].name) for h in homes)
                message = (
                    f"{person.display_name} is in more than one registration group ({names}): "
                    "the first is used."
                )
                fix = "Fix: leave the pupil in one registration group in the MIS, then sync again."
                person = with_problem(
                    person, Problem(message, fix, entry.file, entry.row, severity="warning")
                )
            extra = [g for g in self.groups.get(key, []) if g not in homes[:1]]
            person = replace(
                person, registration_group=homes[0] if homes else None, groups=tuple(dict.fromkeys(extra))
            )
            entries.append(replace(entry, person=person))
        finish_people(self.roster, entries)

    def read(self) -> None:
        raise NotImplementedError


class _V1(_Reader):
    def read(self) -> None:
        expected = ", ".join(V1_FILES)
        ident, school_key = ("sisid", "id"), ("schoolsisid", "schooldfenumber")
        schools = _load(self.files, "School.csv", [("sisid", "dfenumber"), ("name",)], expected)
        sections = _load(self.files, "Section.csv", [ident, school_key, ("sectionname",)], expected)
        people: list[tuple[Table, Role]] = [
            (_load(self.files, name, [ident, school_key, ("username",)], expected), role)
            for name, role in _PEOPLE_FILES
        ]
        rosters = [
            _load(self.files, name, [("sectionsisid", "sectionid"), ident], expected)
            for name in ("StudentEnrollment.csv", "TeacherRoster.csv")
        ]
        school_ids = {_first(row, "sisid", "dfenumber") for row in schools.rows}
        if self.school is None and len(school_ids) > 1:
            self.roster.problems.append(
                Problem(
                    f"This export holds {len(school_ids)} schools; all of them are read as one school.",
                    "Fix: export only this school from SDS, or choose the school when syncing.",
                    "School.csv",
                    severity="warning",
                )
            )
        for row in sections.rows:
            if not self.keep(row, *school_key) or row.get("status").lower() in _INACTIVE:
                continue
            name = row.get("sectionname")
            texts = (name, row.get("coursename"), row.get("coursesubject"), row.get("coursedescription"))
            self.add_group(
                _first(row, *ident), name, "registration" if _is_registration(*texts) else "subject"
            )
        for table, role in people:
            for row in table.rows:
                if self.keep(row, *school_key) and row.get("status").lower() not in _INACTIVE:
                    self.add_person(table, row, self._person(table, row, role), _V1_COLUMNS)
        for table in rosters:
            for row in table.rows:
                self.enrol(
                    table,
                    row,
                    _first(row, "sectionsisid", "sectionid"),
                    _first(row, *ident),
                    ("Section ID", "ID"),
                )
        self.finish()

    def _person(self, table: Table, row: TableRow, role: Role) -> Person:
        key = _first(row, "sisid", "id") or f"row:{table.file}:{row.line}"
        state_id = row.get("stateid").upper()
        username = row.get("username")
        email = row.get("secondaryemail") or (username if "@" in username else "")
        dob, valid = _date(row.get("birthdate"))
        person = Person(
            key=key,
            role=role,
            forename=clean_name(row.get("firstname")),
            surname=clean_name(row.get("lastname")),
            mis_id=_first(row, "studentnumber", "teachernumber") or key,
            upn=state_id if role == "pupil" and _UPN.fullmatch(state_id) else None,
            email=(email or None) if role == "staff" else None,
            year=(row.get("grade") or None) if role == "pupil" else None,
            dob=dob,
        )
        if not valid:
            message = f"The birth date {row.get('birthdate')!r} is not a date: it is left out."
            column = table.header("birthdate", "Birthdate")
            person = with_problem(person, Problem(message, _FIX, table.file, row.line, column, "warning"))
        return person


_V1_COLUMNS = {
    "forename": "First Name",
    "surname": "Last Name",
    "email": "Secondary Email",
    "key": "SIS ID",
    "mis_id": "Student Number",
    "upn": "State ID",
}


class _V2(_Reader):
    def read(self) -> None:
        expected = ", ".join(V2_FILES)
        _load(self.files, "orgs.csv", [("sourcedid",)], expected)
        users = _load(self.files, "users.csv", [("sourcedid",), ("username",)], expected)
        roles = _load(self.files, "roles.csv", [("usersourcedid",), ("role",)], expected)
        classes = _load(self.files, "classes.csv", [("sourcedid",), ("title",)], expected)
        enrollments = _load(
            self.files, "enrollments.csv", [("classsourcedid",), ("usersourcedid",)], expected
        )
        courses = {}
        if self.files.has("courses.csv"):
            for row in read_csv_table(self.files.read("courses.csv") or b"", "courses.csv").rows:
                courses[row.get("sourcedid")] = (row.get("title"), row.get("subject"), row.get("code"))
        chosen: dict[str, tuple[bool, str, str]] = {}
        for row in roles.rows:
            if not self.keep(row, "orgsourcedid"):
                continue
            user, primary = row.get("usersourcedid"), row.get("isprimary").lower() == "true"
            if user not in chosen or (primary and not chosen[user][0]):
                chosen[user] = (primary, row.get("role").lower(), row.get("grade"))
        for row in classes.rows:
            if self.keep(row, "orgsourcedid"):
                course = courses.get(row.get("coursesourcedid"), ("", "", ""))
                kind: GroupKind = "registration" if _is_registration(row.get("title"), *course) else "subject"
                self.add_group(row.get("sourcedid"), row.get("title"), kind)
        dobs = self._birth_dates()
        for row in users.rows:
            key = row.get("sourcedid")
            if key not in chosen:
                continue  # no role at this school: not one of its users
            _, role_name, grade = chosen[key]
            role: Role | None = (
                "pupil" if role_name in _PUPIL_ROLES else "staff" if role_name in _STAFF_ROLES else None
            )
            if role is None:
                continue  # guardians and others are not platform users
            person = Person(
                key=key,
                role=role,
                forename=clean_name(row.get("givenname")),
                surname=clean_name(row.get("familyname")),
                mis_id=key,
                email=row.get("email") or None,
                year=(grade or None) if role == "pupil" else None,
                dob=dobs.get(key),
            )
            self.add_person(users, row, person, _V2_COLUMNS)
        for row in enrollments.rows:
            self.enrol(
                enrollments,
                row,
                row.get("classsourcedid"),
                row.get("usersourcedid"),
                ("classSourcedId", "userSourcedId"),
            )
        self.finish()

    def _birth_dates(self) -> dict[str, dt.date]:
        data = self.files.read("demographics.csv")
        if data is None:
            return {}
        found = {}
        for row in read_csv_table(data, "demographics.csv").rows:
            dob, _ = _date(row.get("birthdate"))
            key = _first(row, "usersourcedid", "sourcedid")
            if dob and key:
                found[key] = dob
        return found


_V2_COLUMNS = {
    "forename": "givenName",
    "surname": "familyName",
    "email": "email",
    "key": "sourcedId",
    "mis_id": "sourcedId",
}
