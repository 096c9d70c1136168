"""The shared reading helpers: decoding, CSV rows with line numbers, and the person checks."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missync.core.roster import Person, Roster, SourceError
from missync.sources.common import (
    PersonEntry,
    decode_text,
    finish_people,
    header_key,
    read_csv_rows,
    read_csv_table,
    validate_person,
)

FIX = "Fix: give the pupil a registration group (their form or class) in the MIS, then sync again."


def test_header_key_ignores_case_spaces_underscores_and_bom() -> None:
    assert {header_key(h) for h in ("Reg Group", "reg_group", "REGGROUP", "\ufeffReg Group ")} == {"reggroup"}


@pytest.mark.parametrize(
    "data",
    ["Zoë Siân João".encode(), b"\xef\xbb\xbf" + "Zoë Siân João".encode(), "Zoë Siân João".encode("cp1252")],
)
def test_decode_text(data: bytes) -> None:
    assert decode_text(data, "f.csv") == "Zoë Siân João"


def test_decode_text_refuses_binary() -> None:
    with pytest.raises(SourceError, match=r"f.csv: cannot be read as text"):
        decode_text(bytes(range(256)) * 4, "f.csv")


def test_rows_keep_line_numbers_across_blank_lines_and_quoted_line_breaks() -> None:
    data = b'a,b\r\n\r\n1,"two\r\nlines"\r\n3,4'
    assert read_csv_rows(data, "f.csv") == [(1, ["a", "b"]), (3, ["1", "two\r\nlines"]), (5, ["3", "4"])]


def test_table_tolerates_blank_and_repeated_headers_and_ragged_rows() -> None:
    table = read_csv_table(b"Name,,Name,Year,,\nBram\nCleo,x,y,5,z,w,extra\n", "f.csv")
    assert table.columns == {"name": "Name", "year": "Year"}
    assert [dict(row.values) for row in table.rows] == [
        {"name": "Bram", "year": ""},
        {"name": "Cleo", "year": "5"},
    ]


cells = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00;\t"), max_size=12).map(
    str.strip
)


@given(st.lists(st.lists(cells, min_size=2, max_size=4), min_size=1, max_size=6))
def test_csv_rows_round_trip(rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    read = read_csv_rows(buffer.getvalue().encode("utf-8"), "f.csv")
    assert [cells for _, cells in read] == [row for row in rows if any(row)]
    lines = [line for line, _ in read]
    assert lines == sorted(set(lines))


def test_validate_person_checks() -> None:
    pupil = validate_person(
        Person("p1", "pupil", "", "Ostler"), "f.csv", 4, columns={"forename": "First Name"}
    )
    assert [(p.column, p.row, p.person) for p in pupil.problems] == [
        ("First Name", 4, "p1"),
        ("registration group", 4, "p1"),
    ]
    assert pupil.problems[1].fix == FIX
    staff = validate_person(Person("s1", "staff", "Ada", "Quill", email="not-an-address"), "f.csv", 2)
    assert "activation email" in staff.problems[0].message
    assert validate_person(staff, "f.csv", 2) == staff  # checking twice adds nothing
    fine = Person("s2", "staff", "Ada", "Quill", email="a.quill@school.example")
    assert validate_person(fine, "f.csv", 2) == fine


def test_finish_people_flags_ids_used_twice_once_each() -> None:
    roster = Roster("test")
    entries = [
        PersonEntry(Person("1", "pupil", "Bram", "Ostler", mis_id="1", registration_group="5Q"), "f.csv", 2),
        PersonEntry(Person("2", "pupil", "Cleo", "Varden", upn="A1", registration_group="5Q"), "f.csv", 3),
        PersonEntry(
            Person("1", "pupil", "Dara", "Fenn", mis_id="1", upn="a1", registration_group="5Q"), "f.csv", 4
        ),
    ]
    finish_people(roster, entries)
    assert [p.key for p in roster.people] == ["1", "2", "1#row4"]
    assert [len(p.problems) for p in roster.people] == [1, 1, 2]  # Dara: the id and the UPN
    assert roster.problems == [problem for p in roster.people for problem in p.problems]
