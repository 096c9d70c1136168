"""Reading what the MIS says: each source turns a provider's data or an export file into a `Roster`.

`read_sources` picks the reader from what it is given: a OneRoster zip or folder, or CSV/XLSX spreadsheet
exports. Bad rows never raise; they become problems. `SourceError` means the input as a whole cannot be
read, with a one-line message saying what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from missync.core.roster import Roster, SourceError
from missync.sources.common import validate_person
from missync.sources.oneroster import read_oneroster
from missync.sources.sds import read_sds, sds_version
from missync.sources.spreadsheet import read_spreadsheet

__all__ = ["read_oneroster", "read_sds", "read_sources", "read_spreadsheet", "validate_person"]

_SPREADSHEET_SUFFIXES = (".csv", ".xlsx", ".xlsm")
_ONEROSTER_FILES = ("manifest.csv", "users.csv")
_EXPECTED = (
    "expected a OneRoster zip or folder, or a CSV/XLSX spreadsheet export with columns such as "
    "Forename, Surname, Year, Reg Group (or a Microsoft SDS CSV folder or zip)"
)


def read_sources(paths: Sequence[str | os.PathLike[str]]) -> Roster:
    """Read the given files or folders into one `Roster`, choosing the reader by what they are.

    A folder or zip holding a Microsoft SDS set (v1: Student.csv, Teacher.csv...; v2.1: roles.csv without
    a OneRoster manifest) is read as SDS, alone. Any other `.zip`, or a folder holding manifest.csv or
    users.csv, is read as OneRoster (one set at a time).
    `.csv`/`.xlsx` files are read as MIS spreadsheet exports: one file with a role column, or a pupils
    file and a staff file, merged into one roster. Raises `SourceError` for a missing path, an
    unrecognised format, or a mix of OneRoster and spreadsheets.
    """
    if not paths:
        raise SourceError(f"No files given: {_EXPECTED}")
    sds = [Path(given) for given in paths if Path(given).exists() and sds_version(given)]
    if sds:
        if len(paths) > 1:
            raise SourceError(
                f"{sds[0].name} is a Microsoft SDS set: expected it alone, not with other files or folders"
            )
        return read_sds(sds[0])
    oneroster: list[Path] = []
    spreadsheets: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        if _is_oneroster(path):
            oneroster.append(path.parent if path.is_file() and path.suffix.lower() == ".csv" else path)
        elif path.is_file() and path.suffix.lower() in _SPREADSHEET_SUFFIXES:
            spreadsheets.append(path)
        else:
            hint = " (save it as .xlsx or .csv)" if path.suffix.lower() == ".xls" else ""
            raise SourceError(f"{path.name} is not a format missync reads{hint}: {_EXPECTED}")
    if oneroster and spreadsheets:
        raise SourceError(
            "A OneRoster set and spreadsheets were given together: expected one or the other, not both"
        )
    if len(set(oneroster)) > 1:
        raise SourceError(
            f"{len(oneroster)} OneRoster sets were given: expected one OneRoster zip or folder at a time"
        )
    return read_oneroster(oneroster[0]) if oneroster else read_spreadsheet(spreadsheets)


def _is_oneroster(path: Path) -> bool:
    """A zip, a folder with OneRoster's files, or a OneRoster users.csv/manifest.csv given directly."""
    if path.is_dir():
        return any(child.name.lower() in _ONEROSTER_FILES for child in path.iterdir()) or any(
            grandchild.name.lower() in _ONEROSTER_FILES
            for child in path.iterdir()
            if child.is_dir()
            for grandchild in child.iterdir()
        )
    if path.suffix.lower() == ".zip":
        return True
    if path.name.lower() in _ONEROSTER_FILES:
        with path.open("rb") as file:
            head = file.read(4096).decode("utf-8", errors="replace")
        return "sourcedid" in head.lower() or "propertyname" in head.lower()
    return False
