"""`read_sources` picks the reader from what it is given, and refuses what it cannot read in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from missync.core.roster import SourceError
from missync.sources import read_sources

from .builders import SHARED_DATA
from .conftest import Writer

PUPILS = "Adno,Forename,Surname,Year,Reg Group\n1001,Bram,Ostler,5,5Q\n"
STAFF = "Staff Code,Forename,Surname,Email\nAQU,Ada,Quill,a.quill@school.example\n"
EXPECTED = "expected a OneRoster zip or folder, or a CSV/XLSX spreadsheet export"


def test_oneroster_zip() -> None:
    roster = read_sources([SHARED_DATA / "oneroster" / "oneroster-1.1-bulk-minimal.zip"])
    assert (roster.source, len(roster.people)) == ("oneroster", 5)


def test_oneroster_folder_and_its_users_csv(tmp_path: Path) -> None:
    shutil.unpack_archive(SHARED_DATA / "oneroster" / "oneroster-1.2-delta-small.zip", tmp_path / "set")
    assert read_sources([str(tmp_path / "set")]).source == "oneroster"
    assert read_sources([tmp_path / "set" / "users.csv"]).complete is False


def test_spreadsheets_merge(write_file: Writer) -> None:
    roster = read_sources([write_file("pupils.csv", PUPILS), write_file("staff.csv", STAFF)])
    assert roster.source == "spreadsheet"
    assert sorted(p.role for p in roster.people) == ["pupil", "staff"]


@pytest.mark.parametrize("name", ["notes.txt", "pupils.json", "pupils.xls"])
def test_unknown_format_is_refused(write_file: Writer, name: str) -> None:
    with pytest.raises(SourceError, match=f"{name} is not a format missync reads.*{EXPECTED}"):
        read_sources([write_file(name, PUPILS)])


def test_folder_without_oneroster_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=EXPECTED):
        read_sources([tmp_path])


def test_missing_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(SourceError, match=r"nowhere\.csv: no such file or folder"):
        read_sources([missing])


def test_nothing_given_is_refused() -> None:
    with pytest.raises(SourceError, match=EXPECTED):
        read_sources([])


def test_oneroster_and_spreadsheet_together_are_refused(write_file: Writer) -> None:
    zipped = SHARED_DATA / "oneroster" / "oneroster-1.1-bulk-minimal.zip"
    with pytest.raises(SourceError, match="not both"):
        read_sources([zipped, write_file("pupils.csv", PUPILS)])


def test_error_messages_are_one_line(write_file: Writer) -> None:
    for paths in (
        [write_file("a.txt", "x")],
        [write_file("b.csv", "Item,Cost\n")],
        [write_file("c.zip", "x")],
    ):
        with pytest.raises(SourceError) as caught:
            read_sources(paths)
        assert "\n" not in str(caught.value)
