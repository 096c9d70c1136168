"""MIS spreadsheet exports (SIMS/Arbor style), CSV in any common encoding, and XLSX."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from missync.core.roster import Person, Problem, Roster, SourceError
from missync.sources.spreadsheet import read_spreadsheet

from .conftest import Writer

PUPILS = (
    "Adno,UPN,Forename,Surname,Year,Reg Group,DOB\n"
    "1001,A123456789012,Zoë,Brontë,Year 5,5Q,17/04/2015\n"
    "1002,B123456789012,Siân,Ó Briain,Year 6,6R,2014-09-30\n"
)
STAFF = "Staff Code,Forename,Surname,Work Email,Class\nAQU,Ada,Quill,a.quill@school.example,5Q\n"


def person(roster: Roster, key: str) -> Person:
    return next(p for p in roster.people if p.key == key)


def only_problem(p: Person, severity: str = "error") -> Problem:
    [problem] = [item for item in p.problems if item.severity == severity]
    return problem


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")]
)
def test_csv_encodings_round_trip_names(write_file: Writer, encoding: str, prefix: bytes) -> None:
    path = write_file("pupils.csv", prefix + PUPILS.encode(encoding))
    roster = read_spreadsheet([path])
    assert [(p.forename, p.surname) for p in roster.people] == [("Zoë", "Brontë"), ("Siân", "Ó Briain")]


def test_pupil_fields(write_file: Writer) -> None:
    roster = read_spreadsheet([write_file("pupils.csv", PUPILS)])
    assert (roster.source, roster.complete) == ("spreadsheet", True)
    zoe = person(roster, "1001")
    assert zoe.role == "pupil"
    assert (zoe.mis_id, zoe.upn, zoe.year, zoe.registration_group) == (
        "1001",
        "A123456789012",
        "Year 5",
        "5Q",
    )
    assert zoe.dob == dt.date(2015, 4, 17)  # UK dd/mm/yyyy
    assert person(roster, "1002").dob == dt.date(2014, 9, 30)  # ISO
    assert roster.groups["5Q"].kind == "registration"
    assert roster.groups["5Q"].mis_id is None
    assert zoe.problems == ()
    # Only pupils were read: said once, as a warning about the read (not about anyone).
    [warning] = roster.problems
    assert (warning.severity, warning.person) == ("warning", "")
    assert "staff" in warning.message


def test_pupils_and_staff_files_merge(write_file: Writer) -> None:
    roster = read_spreadsheet([write_file("pupils.csv", PUPILS), write_file("staff.csv", STAFF)])
    assert [p.role for p in roster.people] == ["pupil", "pupil", "staff"]
    ada = person(roster, "AQU")
    assert (ada.email, ada.groups, ada.registration_group, ada.year) == (
        "a.quill@school.example",
        ("5Q",),
        None,
        None,
    )
    assert roster.problems == []
    assert roster.description == "Spreadsheet, pupils.csv, staff.csv"


def test_staff_file_told_apart_by_name_when_headers_are_weak(write_file: Writer) -> None:
    text = "ID,First Name,Last Name,Email,Class\nS1,Ada,Quill,a.quill@school.example,5Q\n"
    assert read_spreadsheet([write_file("teachers-staff.csv", text)]).people[0].role == "staff"
    assert read_spreadsheet([write_file("pupil-list.csv", text)]).people[0].role == "pupil"


def test_one_file_with_role_column(write_file: Writer) -> None:
    text = (
        "Role,MIS ID,Forename,Surname,Year,Reg Group,Email,Groups\n"
        "Pupil,P1,Bram,Ostler,5,5Q,,Maths 5a; Science 5b\n"
        "Teacher,S1,Ada,Quill,,5Q,a.quill@school.example,Maths 5a\n"
        "Teaching Assistant,S2,Cleo,Varden,,,c.varden@school.example,\n"
    )
    roster = read_spreadsheet([write_file("everyone.csv", text)])
    bram, ada, cleo = roster.people
    assert (bram.role, ada.role, cleo.role) == ("pupil", "staff", "staff")
    assert bram.groups == ("Maths 5a", "Science 5b")
    assert ada.groups == ("5Q", "Maths 5a")
    assert roster.groups["Maths 5a"].kind == "subject"
    assert roster.problems == []


def test_xlsx_with_date_cells_and_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "Admission Number",
            "UPN",
            "Preferred Forename",
            "Legal Forename",
            "Surname",
            "NC Year",
            "Form",
            "Date of Birth",
        ]
    )
    sheet.append([1001, "A123456789012", "Zoë", "Zoella", "Brontë", 5, "5Q", dt.datetime(2015, 4, 17)])
    sheet.append([1002, "B123456789012", "", "Siân", "Ng", 6, "6R", dt.date(2014, 9, 30)])
    workbook.create_sheet("Notes").append(["Forename", "Surname"])
    path = tmp_path / "Pupils.xlsx"
    workbook.save(path)
    roster = read_spreadsheet([path])
    zoe, sian = roster.people
    assert (zoe.key, zoe.year, zoe.dob) == ("1001", "5", dt.date(2015, 4, 17))
    assert (zoe.forename, zoe.legal_forename, zoe.surname) == ("Zoë", "Zoella", "Brontë")
    assert (sian.forename, sian.dob) == ("Siân", dt.date(2014, 9, 30))
    assert roster.problems[0].file == ""  # only the "no staff" warning
    assert len(roster.problems) == 1


def test_xlsx_row_numbers_count_blank_rows(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "Pupil list, summer term"  # a title above the header
    for column, value in zip("ABCD", ["Adno", "Forename", "Surname", "Reg Group"], strict=True):
        sheet[f"{column}3"] = value
    for column, value in zip("ABCD", ["1001", "Bram", "", "5Q"], strict=True):
        sheet[f"{column}6"] = value
    path = tmp_path / "pupils.xlsx"
    workbook.save(path)
    [bram] = read_spreadsheet([path]).people
    problem = only_problem(bram)
    assert (problem.file, problem.row, problem.column) == ("pupils.xlsx", 6, "Surname")


@pytest.mark.parametrize(
    "header",
    [
        "Admission Number,First Name,Last Name,Year Group,Registration Group",
        "adno,forename,SURNAME,nc_year,reg_group",
        "MIS ID,Given Name,Family Name,YEAR,Form",
        "Adno;Forename;Surname;Year;Reg Group",
    ],
)
def test_header_variants(write_file: Writer, header: str) -> None:
    separator = ";" if ";" in header else ","
    text = header + "\n" + separator.join(["1001", "Bram", "Ostler", "5", "5Q"]) + "\n"
    [bram] = read_spreadsheet([write_file("export.csv", text)]).people
    assert (bram.key, bram.forename, bram.surname, bram.year, bram.registration_group) == (
        "1001",
        "Bram",
        "Ostler",
        "5",
        "5Q",
    )
    assert bram.problems == ()


def test_preferred_names_win(write_file: Writer) -> None:
    text = (
        "Adno,Forename,Surname,Preferred Forename,Preferred Surname,Reg Group\n"
        "1,Bartholomew,Ostler-Vane,Bram,Ostler,5Q\n"
    )
    [bram] = read_spreadsheet([write_file("pupils.csv", text)]).people
    assert (bram.forename, bram.surname, bram.legal_forename, bram.legal_surname) == (
        "Bram",
        "Ostler",
        "Bartholomew",
        "Ostler-Vane",
    )


def test_bad_rows_each_name_file_row_and_column(write_file: Writer) -> None:
    text = (
        "Type,Adno,Forename,Surname,Reg Group,Email,DOB\n"
        "pupil,1,Bram,,5Q,,\n"  # no surname
        "governor,2,Cleo,Varden,5Q,,\n"  # unknown role
        "pupil,3,Dara,Fenn,,,\n"  # no registration group
        "staff,4,Ada,Quill,,,\n"  # staff with no email
        "pupil,5,Eli,Marsh,5Q,,31/02/2015\n"  # not a date: a warning only
        "pupil,5,Fay,Marsh,5Q,,\n"  # the same Adno again
    )
    roster = read_spreadsheet([write_file("everyone.csv", text)])
    found = {(p.row, p.column, p.severity) for p in roster.problems}
    assert found == {
        (2, "Surname", "error"),
        (3, "Type", "error"),
        (4, "Reg Group", "error"),
        (5, "Email", "error"),
        (6, "DOB", "warning"),
        (6, "Adno", "error"),
        (7, "Adno", "error"),
    }
    assert {p.file for p in roster.problems} == {"everyone.csv"}
    assert all(p.fix.startswith("Fix:") for p in roster.problems)
    assert "governor" in only_problem(person(roster, "2")).message
    assert person(roster, "5").dob is None
    assert len(roster.people) == 6  # everyone is reported, no one is dropped
    assert [p.key for p in roster.people][-1] == "5#row7"
    assert roster.fatal_problems == []


def test_no_id_keys_by_upn_then_row(write_file: Writer) -> None:
    text = "Adno,UPN,Forename,Surname,Reg Group\n,A123456789012,Bram,Ostler,5Q\n,,Cleo,Varden,5Q\n"
    bram, cleo = read_spreadsheet([write_file("pupils.csv", text)]).people
    assert bram.key == "A123456789012"
    assert cleo.key == "row:pupils.csv:3"
    warning = only_problem(cleo, "warning")
    assert (warning.row, warning.column) == (3, "Adno")
    assert "matched by UPN" in warning.message


def test_unrecognised_spreadsheet_is_refused(write_file: Writer) -> None:
    path = write_file("budget.csv", "Item,Cost\nPaper,12.50\n")
    with pytest.raises(SourceError, match="expected a header row with Forename and Surname"):
        read_spreadsheet([path])


def test_role_cannot_be_told_is_refused(write_file: Writer) -> None:
    path = write_file("people.csv", "Forename,Surname\nBram,Ostler\n")
    with pytest.raises(SourceError, match="pupils or staff"):
        read_spreadsheet([path])


def test_old_excel_file_is_refused(write_file: Writer) -> None:
    path = write_file("pupils.csv", b"\xd0\xcf\x11\xe0" + bytes(100))
    with pytest.raises(SourceError, match="xlsx"):
        read_spreadsheet([path])


@pytest.mark.parametrize("content", [b"not a workbook", b"PK\x03\x04 broken zip"])
def test_broken_workbook_is_refused(write_file: Writer, content: bytes) -> None:
    with pytest.raises(SourceError, match="cannot be opened as an Excel workbook"):
        read_spreadsheet([write_file("pupils.xlsx", content)])


def test_workbook_saved_with_a_csv_name_is_read(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Adno", "Forename", "Surname", "Reg Group"])
    sheet.append([1001, "Bram", "Ostler", "5Q"])
    workbook.save(tmp_path / "pupils.csv")
    [bram] = read_spreadsheet([tmp_path / "pupils.csv"]).people
    assert (bram.key, bram.problems) == ("1001", ())
