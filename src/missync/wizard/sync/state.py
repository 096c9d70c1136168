"""The wizard's answers between steps, kept in the session (one entry per school), and its uploads.

The data source is a small, separate part of the state (`Source`): an upload, or a live provider
("wonde", "xporter", "oneroster-api") read once at the start of the run. Uploads are saved under
`UPLOAD_ROOT/<school slug>/<random token>/`, named from the client's file name only after cleaning it
(the name matters: the spreadsheet reader tells a staff file by it); a live read is kept the same way, as
the roster it read (`LIVE_ROSTER_FILE`, JSON), so every later step and Finish plan on the very roster the
admin reviewed. Both are removed when the wizard finishes or is cancelled, and abandoned ones after a day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from missync.accounts.models import School
from missync.accounts.services import PROVIDER_SOURCES
from missync.core.passwords import default_password_format
from missync.core.roster import Group, Person, Problem, Roster
from missync.core.years import YEAR_GROUPS, map_year

UPLOAD_SUFFIXES = (".zip", ".csv", ".xlsx", ".xlsm")
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
ABANDONED_AFTER_SECONDS = 24 * 3600
MAX_SOURCE_LENGTH = 500  # SyncRun.source
UPLOAD = "upload"
LIVE_ROSTER_FILE = "roster.json"
_TOKEN = re.compile(r"[A-Za-z0-9]{32}")
_STORED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}\.(zip|csv|xlsx|xlsm)")


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    url_name: str | None  # None: reached by a form post, never by a link (Finish)


STEPS: tuple[Step, ...] = (
    Step("source", "Data source", "sync-start"),
    Step("usernames", "Usernames", "sync-usernames"),
    Step("passwords", "Passwords", "sync-passwords"),
    Step("years", "Year groups", "sync-years"),
    Step("subjects", "Subject groups", "sync-subjects"),
    Step("summary", "Summary", "sync-summary"),
    Step("finish", "Finish", None),
)
STEP_INDEX = {step.slug: index for index, step in enumerate(STEPS)}


@dataclass
class Source:
    """Where this run's roster comes from: an upload (files in one token folder), or a live provider
    (`kind` "wonde", "xporter" or "oneroster-api") whose read is kept as `LIVE_ROSTER_FILE` in its token
    folder, `names` holding the read's description ("Wonde school A1..., full, 12 requests")."""

    kind: str
    token: str = ""
    files: list[str] = field(default_factory=list)  # stored (cleaned) names inside the token folder
    names: list[str] = field(default_factory=list)  # the names the admin knows them by, for the pages

    @property
    def is_upload(self) -> bool:
        return self.kind == UPLOAD

    @property
    def is_live(self) -> bool:
        return self.kind in PROVIDER_SOURCES

    def describe(self) -> str:
        """The files' names as the admin knows them (kept short enough for the run's history)."""
        return ", ".join(self.names or [self.kind])[:MAX_SOURCE_LENGTH]


@dataclass
class WizardState:
    """Everything the admin answered so far. Formats apply to new users only."""

    source: Source
    pupil_username_format: str
    staff_username_format: str
    password_formats: dict[str, str] = field(default_factory=dict)  # platform year group -> format
    year_map: dict[str, str] = field(default_factory=dict)  # MIS year name -> platform year group
    subject_groups: list[str] | None = None  # None: every subject group
    duplicates: dict[str, str] = field(default_factory=dict)  # roster person key -> link | new | skip
    reached: int = STEP_INDEX["usernames"]  # the furthest step the admin may open
    job: int | None = None  # the SyncJob writing this run, once finished

    @classmethod
    def start(cls, school: School, source: Source) -> WizardState:
        """A fresh run, answering every question as the school answered it last time."""
        return cls(
            source=source,
            pupil_username_format=school.pupil_username_format,
            staff_username_format=school.staff_username_format,
            subject_groups=None if school.subject_groups is None else list(school.subject_groups),
        )

    def reach(self, step: str) -> None:
        self.reached = max(self.reached, STEP_INDEX[step])

    def year_map_for(self, school: School) -> dict[str, str]:
        """The school's remembered mapping with this run's answers on top."""
        return {**(school.year_map or {}), **self.year_map}

    def password_format_for(self, school: School, year_group: str) -> str:
        return (
            self.password_formats.get(year_group)
            or (school.password_formats or {}).get(year_group)
            or default_password_format(year_group)
        )

    def overrides(self, school: School, roster: Roster) -> dict[str, Any]:
        """The choices to plan with (`services.preview(school, paths, **overrides)`)."""
        year_map = self.year_map_for(school)
        years = year_groups_in(roster, year_map)
        return {
            "pupil_username_format": self.pupil_username_format,
            "staff_username_format": self.staff_username_format,
            "password_formats": {year: self.password_format_for(school, year) for year in years},
            "year_map": year_map,
            "subject_groups": None if self.subject_groups is None else frozenset(self.subject_groups),
            "duplicates": dict(self.duplicates),
        }


def _session_key(school: School) -> str:
    return f"missync-sync-{school.pk}"


def load_state(request: HttpRequest, school: School) -> WizardState | None:
    """This school's run in progress, or None (never started, cancelled, or its files are gone)."""
    raw = request.session.get(_session_key(school))
    if not isinstance(raw, dict):
        return None
    try:
        source = Source(**raw["source"])
        state = WizardState(**{**raw, "source": source})
    except (KeyError, TypeError):
        return None
    if source.is_live:
        names_ok = source.files == [LIVE_ROSTER_FILE]
    else:
        names_ok = source.is_upload and all(_STORED_NAME.fullmatch(n) for n in source.files)
    if not _TOKEN.fullmatch(source.token) or not names_ok:
        return None
    if not all(path.is_file() for path in source_paths(school, source)):
        return None
    return state


def save_state(request: HttpRequest, school: School, state: WizardState) -> None:
    request.session[_session_key(school)] = asdict(state)


def forget_state(request: HttpRequest, school: School) -> None:
    """End the run: forget the answers and remove its uploaded files."""
    state = load_state(request, school)
    if state is not None:
        remove_upload(school, state.source)
    request.session.pop(_session_key(school), None)


# -- uploads -------------------------------------------------------------------------------------------
def _school_folder(school: School) -> Path:
    return Path(settings.UPLOAD_ROOT) / school.slug


def upload_folder(school: School, token: str) -> Path:
    if not _TOKEN.fullmatch(token):
        raise ValueError("not an upload token")
    return _school_folder(school) / token


def source_paths(school: School, source: Source) -> list[Path]:
    folder = upload_folder(school, source.token)
    return [folder / name for name in source.files]


def roster_sources(school: School, source: Source) -> list[str]:
    """What `services.read_roster` reads for this source: the uploaded files, or the provider's name."""
    return [str(path) for path in source_paths(school, source)] if source.is_upload else [source.kind]


def cleanup_folder(school: School, source: Source) -> Path | None:
    """The folder to remove once the run is written (an upload's or a live read's), or None."""
    if source.is_upload or (source.is_live and _TOKEN.fullmatch(source.token)):
        return upload_folder(school, source.token)
    return None


def clean_file_name(original: str, taken: Iterable[str] = ()) -> str:
    """A safe name for an uploaded file: its own words and suffix, never a path (".." or "/" can't pass)."""
    base = re.split(r"[\\/]", original)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:60] or "export"
    taken = set(taken)
    name, number = f"{stem}{suffix}", 2
    while name in taken:
        name, number = f"{stem}-{number}{suffix}", number + 1
    return name


def save_upload(school: School, files: Sequence[UploadedFile]) -> Source:
    """Write the uploaded files into a new token folder (checked by the form: suffixes and sizes)."""
    purge_abandoned(school)
    token = secrets.token_hex(16)
    folder = upload_folder(school, token)
    folder.mkdir(parents=True, exist_ok=False)
    stored: list[str] = []
    for upload in files:
        name = clean_file_name(upload.name or "export", stored)
        with (folder / name).open("xb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        stored.append(name)
    return Source(UPLOAD, token, stored, [Path(upload.name or "export").name[:200] for upload in files])


def remove_upload(school: School, source: Source) -> None:
    folder = cleanup_folder(school, source)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def purge_abandoned(school: School) -> None:
    """Remove this school's uploads left behind by wizards nobody finished or cancelled."""
    folder = _school_folder(school)
    if not folder.is_dir():
        return
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for child in folder.iterdir():
        if child.is_dir() and _TOKEN.fullmatch(child.name) and child.stat().st_mtime < cutoff:
            shutil.rmtree(child, ignore_errors=True)


# -- reading the roster the answers are about ----------------------------------------------------------
def year_groups_in(roster: Roster, year_map: dict[str, str]) -> list[str]:
    """The platform year groups the roster's pupils map to, in school order."""
    found = {map_year(p.year, year_map) for p in roster.people if p.role == "pupil" and p.year}
    return [year for year in YEAR_GROUPS if year in found]


def mis_year_names(roster: Roster) -> list[tuple[str, int]]:
    """Each MIS year name pupils have, with how many pupils have it, in a natural order."""
    counts: dict[str, int] = {}
    for person in roster.people:
        if person.role == "pupil" and person.year:
            counts[person.year] = counts.get(person.year, 0) + 1

    def order(name: str) -> tuple[int, str]:
        suggested = map_year(name, {})
        return (YEAR_GROUPS.index(suggested) if suggested else len(YEAR_GROUPS), name.casefold())

    return [(name, counts[name]) for name in sorted(counts, key=order)]


def subject_groups_in(roster: Roster) -> list[tuple[str, int, int]]:
    """Each subject group's name with its pupil and staff member counts, by name."""
    names = {key: group.name for key, group in roster.groups.items() if group.kind == "subject"}
    counts: dict[str, list[int]] = {name: [0, 0] for name in names.values()}
    for person in roster.people:
        for name in {names[key] for key in person.groups if key in names}:
            counts[name][0 if person.role == "pupil" else 1] += 1
    return [(name, pupils, staff) for name, (pupils, staff) in sorted(counts.items())]


# -- a live read, kept for the run ---------------------------------------------------------------------
def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not kept in a live read")


def roster_to_json(roster: Roster) -> str:
    """The whole roster as JSON (`roster_from_json` gives back an equal roster)."""
    return json.dumps(asdict(roster), default=_json_value, ensure_ascii=False, separators=(",", ":"))


def _person(raw: dict[str, Any]) -> Person:
    return Person(
        **{
            **raw,
            "groups": tuple(raw.get("groups") or ()),
            "dob": dt.date.fromisoformat(raw["dob"]) if raw.get("dob") else None,
            "problems": tuple(Problem(**problem) for problem in raw.get("problems") or ()),
        }
    )


def roster_from_json(text: str) -> Roster:
    """The roster `roster_to_json` wrote; ValueError (or KeyError/TypeError) when the text is not one."""
    raw = json.loads(text)
    return Roster(
        source=raw["source"],
        people=[_person(person) for person in raw["people"]],
        groups={key: Group(**group) for key, group in raw["groups"].items()},
        problems=[Problem(**problem) for problem in raw["problems"]],
        complete=bool(raw["complete"]),
        removed=set(raw["removed"]),
        description=raw.get("description", ""),
    )


def write_atomically(path: Path, text: str) -> None:
    """Write a file so a reader sees the old content or the new, never half of it (owner-only)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with temporary.open("x", encoding="utf-8") as handle:
        os.chmod(temporary, 0o600)
        handle.write(text)
    os.replace(temporary, path)


def save_live_roster(folder: Path, roster: Roster) -> None:
    write_atomically(folder / LIVE_ROSTER_FILE, roster_to_json(roster))


def live_roster(school: School, source: Source) -> Roster:
    """The roster a live source read at the start of the run; ValueError when it cannot be loaded."""
    path = upload_folder(school, source.token) / LIVE_ROSTER_FILE
    try:
        return roster_from_json(path.read_text(encoding="utf-8"))
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"the roster read from {source.kind} is gone or damaged") from error
