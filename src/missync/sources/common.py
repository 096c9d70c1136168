"""What every file source shares: decoding text, reading CSV rows with their line numbers, finding the
files of a zip or folder, and the checks that keep a person with bad data out of a run.

Every source builds `PersonEntry`s (a person plus where they were read) and hands them to
`finish_people`, so the same validation and duplicate checks apply whichever MIS or format they came from.
Problems about a person are kept both on the person (`Person.problems`, which keeps them out of the run
when one is an error) and in `Roster.problems` (the complete list for the report).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import charset_normalizer

from missync.core.roster import Person, Problem, Roster, SourceError

PathLike = str | os.PathLike[str]

# A single CSV member of a zip bigger than this is refused rather than read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024

_OLD_EXCEL_SIGNATURE = b"\xd0\xcf\x11\xe0"
_FIX_AGAIN = "then sync again."
_STAFF_EMAIL = "staff need an email address to receive their activation email."


def header_key(header: str) -> str:
    """Return the form a column header is compared in: lower case, letters and digits only.

    "Reg Group", "reg_group" and "RegGroup" all give "reggroup"; "\\ufeffsourcedId" gives "sourcedid".
    """
    return "".join(char for char in header.casefold() if char.isalnum())


# ---------------------------------------------------------------------------------------------- text


def decode_text(data: bytes, file: str) -> str:
    """Decode a text file's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else detected.

    Text that is not UTF-8 is read as Windows-1252 (what UK MIS exports on Windows produce) unless
    charset-normalizer finds UTF-16/32; charset-normalizer alone tends to pick cp1250 for short Western
    text, which would turn "João" into "Joăo". Raises `SourceError` when the bytes are not text.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(
                f"{file}: starts as UTF-8 text but byte {error.start} is not UTF-8: "
                "expected a file saved as 'CSV UTF-8'"
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(_OLD_EXCEL_SIGNATURE):
        raise SourceError(
            f"{file}: is an old Excel (.xls) workbook, not text: expected CSV or XLSX (save it as .xlsx)"
        )
    if b"\x00" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding.startswith(("utf_16", "utf_32")):
        return str(best)
    if b"\x00" not in data:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if best is not None and b"\x00" not in data:
        return str(best)
    raise SourceError(
        f"{file}: cannot be read as text: expected a CSV file in UTF-8 or Windows-1252 "
        "(in Excel, 'Save As' and choose 'CSV UTF-8')"
    )


# ----------------------------------------------------------------------------------------------- CSV

RawRow = tuple[int, list[str]]


def _delimiter(text: str) -> str:
    """Comma, unless the header line has none but has semicolons or tabs (Excel in some locales)."""
    first_line = text.split("\n", 1)[0]
    if "," in first_line:
        return ","
    return max((";", "\t"), key=first_line.count) if ";" in first_line or "\t" in first_line else ","


def read_csv_rows(data: bytes, file: str) -> list[RawRow]:
    """Return the non-blank rows of a CSV file, each with the 1-based line number it starts on.

    Cells are stripped. A cell with a line break inside quotes spans lines; the next row's number
    accounts for that. Raises `SourceError` when the file is not text or not CSV.
    """
    text = decode_text(data, file)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[RawRow] = []
    next_line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((next_line, [cell.strip() for cell in cells]))
            next_line = reader.line_num + 1
    except csv.Error as error:
        raise SourceError(f"{file}: line {reader.line_num} is not valid CSV ({error})") from None
    return rows


@dataclass(frozen=True)
class TableRow:
    """One data row: its line number in the file and its cells by `header_key`."""

    line: int
    values: Mapping[str, str]

    def get(self, key: str) -> str:
        """The stripped cell under the column whose `header_key` is `key`, or ""."""
        return self.values.get(key, "")


@dataclass
class Table:
    """The rows of one CSV or sheet, under the header row."""

    file: str
    columns: dict[str, str]  # header_key -> the header as written in the file
    rows: list[TableRow] = field(default_factory=list)

    def has(self, key: str) -> bool:
        """True when the file has a column whose `header_key` is `key`."""
        return key in self.columns

    def header(self, key: str, default: str = "") -> str:
        """The column's header as written in the file (for problems), else `default`."""
        return self.columns.get(key, default)


def make_table(file: str, rows: list[RawRow], header_at: int = 0) -> Table:
    """Build a `Table` from raw rows, using `rows[header_at]` as the header row.

    Blank headers (trailing commas) and columns repeated under the same `header_key` (the first is kept)
    are ignored; short rows are padded with "" and extra cells are ignored.
    """
    if not rows:
        return Table(file, {})
    header_cells = rows[header_at][1]
    positions: dict[str, int] = {}
    columns: dict[str, str] = {}
    for index, header in enumerate(header_cells):
        key = header_key(header)
        if key and key not in positions:
            positions[key] = index
            columns[key] = header.lstrip("\ufeff").strip()
    table = Table(file, columns)
    for line, cells in rows[header_at + 1 :]:
        values = {key: cells[index] if index < len(cells) else "" for key, index in positions.items()}
        if any(values.values()):
            table.rows.append(TableRow(line, values))
    return table


def read_csv_table(data: bytes, file: str) -> Table:
    """Read a CSV file whose first non-blank row is the header."""
    return make_table(file, read_csv_rows(data, file))


# ------------------------------------------------------------------------------------ zips and folders


class FileSet:
    """The files of a zip or a folder, found by name regardless of case.

    When the CSVs sit in a subfolder (a zipped folder), the shallowest folder holding `manifest.csv` or
    `users.csv` is used.
    """

    def __init__(self, label: str, loaders: dict[str, Callable[[], bytes]]) -> None:
        self.label = label
        self._loaders = loaders  # lower-case file name -> reads its bytes

    @classmethod
    def open(cls, path: PathLike, markers: Iterable[str] = ("manifest.csv", "users.csv")) -> FileSet:
        """Open a zip file or a folder. Raises `SourceError` for anything else."""
        location = Path(path)
        wanted = {marker.lower() for marker in markers}
        if location.is_dir():
            return cls._from_folder(location, wanted)
        if not location.exists():
            raise SourceError(f"{location}: no such file or folder")
        if not zipfile.is_zipfile(location):
            raise SourceError(f"{location.name}: is not a zip file: expected a OneRoster CSV zip")
        return cls._from_zip(location, wanted)

    @classmethod
    def _from_folder(cls, folder: Path, wanted: set[str]) -> FileSet:
        candidates = [folder, *sorted(child for child in folder.iterdir() if child.is_dir())]
        chosen = next(
            (
                candidate
                for candidate in candidates
                if any(child.name.lower() in wanted for child in candidate.iterdir())
            ),
            folder,
        )
        loaders: dict[str, Callable[[], bytes]] = {}
        for child in sorted(chosen.iterdir()):
            if child.is_file():
                loaders.setdefault(child.name.lower(), child.read_bytes)
        return cls(folder.name, loaders)

    @classmethod
    def _from_zip(cls, location: Path, wanted: set[str]) -> FileSet:
        with zipfile.ZipFile(location) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir() and not info.filename.startswith("__MACOSX/")
            ]
        folders = sorted(
            (info.filename.rpartition("/")[0] for info in members if _base(info.filename) in wanted),
            key=lambda name: (name.count("/") if name else -1, name),
        )
        root = folders[0] if folders else ""
        loaders: dict[str, Callable[[], bytes]] = {}
        for info in members:
            if info.filename.rpartition("/")[0] == root:
                loaders.setdefault(_base(info.filename), _zip_loader(location, info))
        return cls(location.name, loaders)

    def has(self, name: str) -> bool:
        """True when the set holds a file of this name (any case)."""
        return name.lower() in self._loaders

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when the set has no such file."""
        loader = self._loaders.get(name.lower())
        return loader() if loader else None


def _base(member: str) -> str:
    return member.rpartition("/")[2].lower()


def _zip_loader(location: Path, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def load() -> bytes:
        if info.file_size > MAX_FILE_BYTES:
            raise SourceError(
                f"{location.name}: {info.filename} is too large to read ({info.file_size} bytes)"
            )
        try:
            with zipfile.ZipFile(location) as archive:
                return archive.read(info)
        except (zipfile.BadZipFile, OSError) as error:
            raise SourceError(f"{location.name}: {info.filename} cannot be unpacked ({error})") from None

    return load


# ------------------------------------------------------------------------------------------- people

_DEFAULT_COLUMNS = {
    "forename": "forename",
    "surname": "surname",
    "registration_group": "registration group",
    "email": "email",
}


@dataclass(frozen=True)
class PersonEntry:
    """A person as read, with where: the file, the row (1-based line) and the file's column names.

    `columns` maps Person fields (forename, surname, registration_group, email, key, mis_id, upn) to
    the header the file uses, so problems name the column the school will look for.
    """

    person: Person
    file: str
    row: int | None
    columns: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> str:
        """The file's header for a Person field, or a plain-words default."""
        if name in self.columns:
            return self.columns[name]
        return _DEFAULT_COLUMNS.get(name, name)


def with_problem(person: Person, problem: Problem) -> Person:
    """Return the person with one more problem (the same problem is never added twice)."""
    owned = replace(problem, person=person.key)
    if owned in person.problems:
        return person
    return replace(person, problems=(*person.problems, owned))


def _who(person: Person) -> str:
    name = person.display_name or person.key
    return f"{name} ({person.role})"


def validate_person(
    person: Person,
    file: str,
    row: int | None,
    *,
    columns: Mapping[str, str] | None = None,
    delta: bool = False,
) -> Person:
    """Return the person with an error problem for each thing that keeps them out of a run.

    Checked here, for every source alike: no forename; no surname; a pupil with no registration group;
    a member of staff with no (usable) email address. In a `delta` a pupil may come without their
    registration group (it is unchanged); the planner then keeps the class they have, and refuses a new
    pupil without one. `columns` names the file's headers for the
    fields (forename, surname, registration_group, email) so each problem points at the right column.
    Duplicate ids need the whole roster: see `finish_people`.
    """
    where = PersonEntry(person, file, row, columns or {})
    who = _who(person)
    checks: list[tuple[bool, str, str, str]] = [
        (not person.forename, "forename", f"{who} has no forename.", "enter their forename in the MIS"),
        (not person.surname, "surname", f"{who} has no surname.", "enter their surname in the MIS"),
        (
            person.role == "pupil" and not person.registration_group and not delta,
            "registration_group",
            f"{who} has no registration group.",
            "give the pupil a registration group (their form or class) in the MIS",
        ),
        (
            person.role == "staff" and not person.email,
            "email",
            f"{who} has no email address: {_STAFF_EMAIL}",
            "enter their work email address in the MIS",
        ),
        (
            person.role == "staff" and bool(person.email) and not _looks_like_email(person.email or ""),
            "email",
            f"{who} has the email address {person.email!r}, which is not valid: {_STAFF_EMAIL}",
            "correct their work email address in the MIS",
        ),
    ]
    for failed, field_name, message, fix in checks:
        if failed:
            problem = Problem(message, f"Fix: {fix}, {_FIX_AGAIN}", file, row, where.column(field_name))
            person = with_problem(person, problem)
    return person


def _looks_like_email(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain.strip(".") and not any(c.isspace() for c in email))


_IDENTITIES: tuple[tuple[str, str], ...] = (("key", "id"), ("mis_id", "MIS id"), ("upn", "UPN"))


def finish_people(roster: Roster, entries: list[PersonEntry]) -> None:
    """Validate every person, flag ids used twice, and add the people and their problems to the roster.

    When two rows share an id (the person's key, MIS id or UPN, compared ignoring case), both get an error:
    the roster cannot tell which row is right, so neither is synced until the MIS is corrected. The second
    and later rows with the same key get a key ending "#row<n>" so keys stay unique in the roster.
    """
    people = [
        validate_person(entry.person, entry.file, entry.row, columns=entry.columns, delta=not roster.complete)
        for entry in entries
    ]
    flagged: set[tuple[int, str]] = set()
    for field_name, label in _IDENTITIES:
        holders: dict[str, list[int]] = {}
        for index, person in enumerate(people):
            value = getattr(person, field_name)
            if value:
                holders.setdefault(str(value).casefold(), []).append(index)
        for value_key, indexes in holders.items():
            if len(indexes) < 2:
                continue
            for index in indexes:
                if (index, value_key) in flagged:
                    continue
                flagged.add((index, value_key))
                people[index] = _duplicate_problem(people, entries, indexes, index, field_name, label)
    seen: set[str] = set()
    for index, person in enumerate(people):
        if person.key in seen:
            suffix = f"#row{entries[index].row}" if entries[index].row is not None else f"#{index + 1}"
            new_key = person.key + suffix
            person = replace(
                person,
                key=new_key,
                problems=tuple(replace(problem, person=new_key) for problem in person.problems),
            )
        seen.add(person.key)
        roster.people.append(person)
        roster.problems.extend(person.problems)


def _duplicate_problem(
    people: list[Person],
    entries: list[PersonEntry],
    indexes: list[int],
    index: int,
    field_name: str,
    label: str,
) -> Person:
    person, entry = people[index], entries[index]
    value = getattr(person, field_name)
    others = [
        f"{entries[other].file} row {entries[other].row}" if entries[other].row else entries[other].file
        for other in indexes
        if other != index
    ]
    problem = Problem(
        f"{_who(person)} has the same {label} {value!r} as {', '.join(others)}: "
        "each person needs their own id, so neither is synced.",
        f"Fix: correct the {label} of the wrong record in the MIS (or remove the repeated row), {_FIX_AGAIN}",
        entry.file,
        entry.row,
        entry.column(field_name),
        "error",
        person.key,
    )
    return with_problem(person, problem)


def sort_problems(roster: Roster) -> None:
    """Order the roster's problems by file and row (problems about the whole read first)."""
    roster.problems.sort(key=lambda problem: (problem.row is not None, problem.file, problem.row or 0))
