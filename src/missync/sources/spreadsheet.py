"""Spreadsheet exports from a UK MIS (SIMS, Arbor, Bromcom...), CSV or XLSX, read into a `Roster`.

One file with a role column, or separate pupil and staff files. Columns are recognised by their headers,
ignoring case, spaces and underscores ("Reg Group", "reg_group", "REGGROUP"). Spreadsheets have no ids
for groups, so a group's key is its name.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import openpyxl

from missync.core.names import clean_name
from missync.core.roster import Group, Person, Problem, Role, Roster, Severity, SourceError
from missync.sources.common import (
    PathLike,
    PersonEntry,
    RawRow,
    Table,
    TableRow,
    finish_people,
    header_key,
    make_table,
    read_csv_rows,
    sort_problems,
    with_problem,
)

# Person fields -> the header_keys that mean them, most specific first.
_ALIASES: dict[str, tuple[str, ...]] = {
    "preferred_forename": ("preferredforename", "preferredfirstname", "knownas", "chosenforename"),
    "forename": ("forename", "forenames", "firstname", "givenname"),
    "legal_forename": ("legalforename", "legalfirstname"),
    "preferred_surname": ("preferredsurname", "preferredlastname", "chosensurname"),
    "surname": ("surname", "lastname", "familyname"),
    "legal_surname": ("legalsurname", "legallastname"),
    "upn": ("upn", "uniquepupilnumber"),
    "former_upn": ("formerupn",),
    "upi": ("upi",),
    "mis_id": (
        "adno", "admissionnumber", "admissionno", "admno", "misid", "id", "staffcode", "personid",
        "pupilid", "studentid", "staffid", "employeeid",
    ),
    "year": ("year", "yeargroup", "ncyear", "curriculumyear", "yearofstudy"),
    "registration_group": (
        "reggroup", "registrationgroup", "reg", "form", "formgroup", "tutorgroup", "class",
    ),
    "dob": ("dob", "dateofbirth", "birthdate"),
    "email": ("email", "workemail", "emailaddress", "workemailaddress", "schoolemail"),
    "role": ("role", "type", "usertype", "persontype"),
    "groups": ("groups", "subjectgroups", "teachinggroups", "classes"),
}  # fmt: skip
_FORENAMES = ("preferred_forename", "forename", "legal_forename")
_SURNAMES = ("preferred_surname", "surname", "legal_surname")
_PUPIL_WORDS = frozenset({"pupil", "pupils", "student", "students", "learner", "child"})
_STAFF_WORDS = frozenset(
    {"staff", "teacher", "ta", "support", "admin", "administrator", "aide", "employee", "cover", "supply"}
)
_HEADER_SEARCH_ROWS = 10  # some reports put a title or a blank line above the header row
_UK_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_FIX = "then sync again."


def read_spreadsheet(paths: Sequence[PathLike]) -> Roster:
    """Read one or more CSV/XLSX exports (one file with a role column, or pupils and staff files).

    Each file's people are validated and merged into one roster (`source="spreadsheet"`, complete).
    Bad rows become problems; raises `SourceError` only when a file cannot be read as a whole: missing,
    not CSV/XLSX, or no header row with forename and surname columns.
    """
    if not paths:
        raise SourceError("No spreadsheet given: expected a CSV or XLSX export of pupils and/or staff")
    roster = Roster(source="spreadsheet", complete=True)
    entries: list[PersonEntry] = []
    for path in paths:
        entries.extend(_read_file(Path(path), roster))
    for role, words in (("pupil", "pupils"), ("staff", "staff")):
        if entries and all(entry.person.role != role for entry in entries):
            roster.problems.append(
                Problem(
                    f"No {words} were read from these files.",
                    f"{words.capitalize()} already on the platform are left as they are (not made "
                    f"leavers); add the {words} export too to sync them.",
                    severity="warning",
                )
            )
    finish_people(roster, entries)
    sort_problems(roster)
    roster.description = "Spreadsheet, " + ", ".join(Path(path).name for path in paths)
    return roster


def _read_file(path: Path, roster: Roster) -> list[PersonEntry]:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    data = path.read_bytes()
    is_workbook = data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm")
    rows = _xlsx_rows(data, path.name) if is_workbook else read_csv_rows(data, path.name)
    table = _find_header(path.name, rows)
    columns = {name: _column(table, name) for name in _ALIASES}
    if not columns["mis_id"]:
        roster.problems.append(
            Problem(
                "This file has no id column (Adno, Admission Number, MIS ID or Staff Code): people "
                "can only be matched by UPN (pupils) or email (staff).",
                "Fix: include the admission number (pupils) or staff code in the export.",
                path.name,
                severity="warning",
            )
        )
    file_role = None if columns["role"] else _file_role(columns, path.name)
    headers = {name: table.header(key) for name, key in columns.items() if key}
    headers["key"] = headers.get("mis_id") or headers.get("upn", "")
    headers.setdefault("registration_group", "Reg Group")
    return [_entry(table, row, columns, headers, file_role, roster) for row in table.rows]


def _xlsx_rows(data: bytes, file: str) -> list[RawRow]:
    """The first sheet's non-blank rows as text, with their row numbers. Date cells become ISO dates."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SourceError(
            f"{file}: cannot be opened as an Excel workbook ({error}): expected an .xlsx file saved by Excel"
        ) from None
    try:
        if not workbook.worksheets:
            raise SourceError(f"{file}: the workbook has no sheets: expected the export on its first sheet")
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # exporters often write a wrong sheet size, which read-only trusts
        rows: list[RawRow] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in values]
            if any(cells):
                rows.append((number, cells))
        return rows
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 1234 and 5 as floats
    return str(value).strip()


def _find_header(file: str, rows: list[RawRow]) -> Table:
    """The table under the first row (of the first few) that has forename and surname headers."""
    for index, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        keys = {header_key(cell) for cell in cells}
        has = {name for name, aliases in _ALIASES.items() if keys.intersection(aliases)}
        if has.intersection(_FORENAMES) and has.intersection(_SURNAMES):
            return make_table(file, rows, header_at=index)
    raise SourceError(
        f"{file}: not a recognised MIS export: expected a header row with Forename and Surname columns "
        "(and Year, Reg Group, UPN for pupils)"
    )


def _column(table: Table, name: str) -> str:
    """The header_key of the table's column for a Person field, or ""."""
    return next((alias for alias in _ALIASES[name] if table.has(alias)), "")


def _file_role(columns: dict[str, str], file: str) -> Role:
    """Pupils or staff, for a file without a role column: its headers decide, its name breaks ties."""
    words = set(re.split(r"[^a-z]+", file.lower()))
    if columns["upn"] or columns["year"] or columns["mis_id"] in ("adno", "admissionnumber"):
        return "pupil"
    if words & _STAFF_WORDS:
        return "staff"
    if words & _PUPIL_WORDS:
        return "pupil"
    if columns["email"] or columns["mis_id"] == "staffcode":
        return "staff"
    if columns["registration_group"]:
        return "pupil"
    raise SourceError(
        f"{file}: cannot tell whether it lists pupils or staff: expected a Role column, pupil columns "
        "(UPN, Year, Reg Group) or staff columns (Email, Staff Code)"
    )


def _role(text: str) -> Role | None:
    words = set(re.split(r"[^a-z]+", text.lower())) - {""}
    if words & _PUPIL_WORDS:
        return "pupil"
    if words & _STAFF_WORDS or any(word.startswith(("teach", "staff")) for word in words):
        return "staff"
    return None


def _entry(
    table: Table,
    row: TableRow,
    columns: dict[str, str],
    headers: dict[str, str],
    file_role: Role | None,
    roster: Roster,
) -> PersonEntry:
    def cell(name: str) -> str:
        return row.get(columns[name]) if columns[name] else ""

    def problem(name: str, message: str, fix: str, severity: Severity = "error") -> Problem:
        return Problem(message, fix, table.file, row.line, headers.get(name, ""), severity)

    problems: list[Problem] = []
    role = _role(cell("role")) if columns["role"] else file_role
    if role is None:
        what = f"the role {cell('role')!r}" if cell("role") else "no role"
        problems.append(
            problem("role", f"This row has {what}: expected pupil or staff.", f"Fix: set the role, {_FIX}")
        )
    mis_id, upn = cell("mis_id") or None, cell("upn").upper() or None
    key = mis_id or upn or f"row:{table.file}:{row.line}"
    forename = next((clean_name(cell(name)) for name in _FORENAMES if clean_name(cell(name))), "")
    surname = next((clean_name(cell(name)) for name in _SURNAMES if clean_name(cell(name))), "")
    # With a preferred name column, the plain Forename/Surname column holds the legal name.
    legal_forename = cell("legal_forename") or (cell("forename") if columns["preferred_forename"] else "")
    legal_surname = cell("legal_surname") or (cell("surname") if columns["preferred_surname"] else "")
    dob = _parse_dob(cell("dob"))
    if cell("dob") and dob is None:
        problems.append(
            problem(
                "dob",
                f"The date of birth {cell('dob')!r} is not a date: it is left out.",
                f"Fix: enter it as dd/mm/yyyy in the MIS, {_FIX}",
                "warning",
            )
        )
    # A row whose role is unknown is kept out by its problem; guess the role so the other checks fit.
    person_role: Role = role or (
        "staff" if cell("email") and not cell("year") and not cell("upn") else "pupil"
    )
    group_names = [clean_name(name) for name in cell("groups").split(";") if clean_name(name)]
    for name in group_names:
        roster.add_group(Group(name, name, "subject"))
    registration = clean_name(cell("registration_group")) or None
    if registration:
        roster.add_group(Group(registration, registration, "registration"))
    if person_role == "staff" and registration:
        group_names.insert(0, registration)  # for staff, the class is one they teach
    person = Person(
        key=key,
        role=person_role,
        forename=forename,
        surname=surname,
        legal_forename=clean_name(legal_forename),
        legal_surname=clean_name(legal_surname),
        mis_id=mis_id,
        upn=upn,
        former_upn=cell("former_upn").upper() or None,
        upi=cell("upi") or None,
        email=cell("email") or None,
        year=(cell("year") or None) if person_role == "pupil" else None,
        registration_group=registration if person_role == "pupil" else None,
        groups=tuple(dict.fromkeys(group_names)),
        dob=dob,
    )
    if columns["mis_id"] and not mis_id:
        matched_by = "UPN" if person_role == "pupil" else "email"
        problems.append(
            problem(
                "mis_id",
                f"{person.display_name or 'This person'} has no {headers['mis_id']}: without an id "
                f"they can only be matched by {matched_by}.",
                f"Fix: check their record in the MIS, {_FIX}",
                "warning",
            )
        )
    for item in problems:
        person = with_problem(person, item)
    return PersonEntry(person, table.file, row.line, headers)


def _parse_dob(text: str) -> dt.date | None:
    """UK dd/mm/yyyy (or with - or .), ISO yyyy-mm-dd, "17 Apr 2010", or an Excel day number."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    match = _UK_DATE.fullmatch(text.split(" ")[0])
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            return dt.date(year, month, day)
        if text.isdigit() and 10000 <= int(text) <= 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(text))
    except ValueError:
        return None
    for pattern in ("%d %b %Y", "%d %B %Y", "%d-%b-%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None
