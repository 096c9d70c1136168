"""Tests for the made-up school generator and its file writers (missync.sample)."""

from __future__ import annotations

import copy
import csv
import io
import re
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missync import sample
from missync.sample import (
    SPREADSHEET_HEADERS,
    SampleSchool,
    generate_pupils_school,
    generate_school,
    mid_year_changes,
    next_academic_year,
    oneroster_columns,
    write_oneroster,
    write_spreadsheet,
)
from missync.sources import read_sources


def columns(header: str) -> list[str]:
    return header.split(",")


# Headers copied from the reference (oneroster-and-sds-csv.md), not from the module under test.
USERS_11 = columns(
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
USERS_12_ADDED = columns("userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName")
ROLES_12 = columns(
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId"
)
ENROLLMENTS = columns(
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate"
)


@pytest.fixture(scope="module")
def school() -> SampleSchool:
    return generate_school()


def upn_check_letter_ok(upn: str) -> bool:
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    return letters[sum(int(d) * w for w, d in enumerate(upn[1:], 2)) % 23] == upn[0]


def dob_fits(year: str, dob: date, academic_year: int) -> bool:
    born = academic_year - 5 - sample.year_number(year)  # Reception 2026/27: Sep 2021 .. Aug 2022
    return date(born, 9, 1) <= dob <= date(born + 1, 8, 31)


def read_csv(data: bytes | str, encoding: str = "utf-8") -> list[dict[str, str]]:
    text = data.decode(encoding) if isinstance(data, bytes) else data
    assert text.endswith("\n")
    return list(csv.DictReader(io.StringIO(text, newline="")))


# --- generate_school -------------------------------------------------------------------------------


def test_default_school_shape(school: SampleSchool) -> None:
    assert len(school.class_ids) == 14
    assert {p.reg_group for p in school.pupils} == set(school.class_ids)
    assert 378 <= len(school.pupils) <= 420
    assert len(school.staff) == 20
    titles = Counter(s.title for s in school.staff)
    assert titles["Head"] == 1 and titles["Teacher"] == 14
    assert all(p.reg_group and p.year in sample.PRIMARY_YEARS for p in school.pupils)
    sizes = Counter(p.reg_group for p in school.pupils)
    assert all(27 <= n <= 30 for n in sizes.values())


def test_ids_are_unique_and_well_formed(school: SampleSchool) -> None:
    adnos = [p.adno for p in school.pupils]
    upns = [p.upn for p in school.pupils]
    codes = [s.staff_code for s in school.staff]
    emails = [s.email for s in school.staff]
    for ids in (adnos, upns, codes, emails):
        assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Z]\d{12}", upn) and upn_check_letter_ok(upn) for upn in upns)
    assert all(re.fullmatch(r"[a-z0-9]+@oakfield\.example\.org", e) for e in emails)
    assert all(p.reg_group_id == school.class_ids[p.reg_group] for p in school.pupils)


def test_dates_of_birth_fit_year_groups(school: SampleSchool) -> None:
    assert all(dob_fits(p.year, p.dob, school.academic_year) for p in school.pupils)


def test_hard_cases_are_present(school: SampleSchool) -> None:
    initials = Counter((p.forename, p.surname[0]) for p in school.pupils)
    assert any(n > 1 for n in initials.values()), "no JohnS / JohnS2 clash"
    assert any(not (p.forename + p.surname).isascii() for p in school.pupils)
    assert any(p.forename != p.legal_forename for p in school.pupils)
    twins = Counter((p.surname, p.dob, p.year) for p in school.pupils)
    assert any(n > 1 for n in twins.values())


def test_groups_are_few_and_known(school: SampleSchool) -> None:
    known = set(school.subject_groups())
    assert all(set(p.groups) <= known and len(p.groups) <= 4 for p in school.pupils)
    assert sum(len(p.groups) <= 2 for p in school.pupils) > 0.9 * len(school.pupils)
    taught = {c for s in school.staff for c in s.classes}
    assert set(school.class_ids) <= taught and known <= taught


def test_same_seed_same_school_other_seed_other_school() -> None:
    assert generate_school(7) == generate_school(7)
    assert generate_school(7).pupils != generate_school(8).pupils


def test_other_year_ranges_and_names() -> None:
    school = generate_school(2, name="St Mary's C of E Primary", years=("Nursery", "Reception", "Year 1"))
    assert school.slug == "st-marys"
    assert {p.reg_group.split()[0] for p in school.pupils} == {"N", "R", "1"}
    assert all(dob_fits(p.year, p.dob, school.academic_year) for p in school.pupils)
    assert [sample.grade_code(y) for y in ("Nursery", "Reception", "Year 1", "Year 13")] == [
        "PK",
        "KG",
        "01",
        "13",
    ]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    forms=st.integers(1, 3),
    per_class=st.integers(1, 12),
    staff=st.integers(0, 8),
)
def test_any_small_school_is_consistent(seed: int, forms: int, per_class: int, staff: int) -> None:
    school = generate_school(seed, forms_per_year=forms, pupils_per_class=per_class, staff=staff)
    later = mid_year_changes(next_academic_year(school, seed), seed)
    for s in (school, later):
        assert len({p.adno for p in s.pupils}) == len({p.upn for p in s.pupils}) == len(s.pupils)
        assert all(s.class_ids[p.reg_group] == p.reg_group_id for p in s.pupils)
        assert len(s.staff) == staff
        assert all(dob_fits(p.year, p.dob, s.academic_year) for p in s.pupils)


def test_exact_pupil_count_at_benchmark_scale() -> None:
    big = generate_pupils_school(1, 100_000)
    assert len(big.pupils) == 100_000
    assert len(generate_pupils_school(3, 0).pupils) == 0
    assert len(generate_pupils_school(3, 45).pupils) == 45


# --- a school year on, and mid-year changes ---------------------------------------------------------


def test_next_academic_year(school: SampleSchool) -> None:
    before = copy.deepcopy(school)
    new = next_academic_year(school, seed=1)
    assert school == before, "the input must not change"
    assert new.academic_year == school.academic_year + 1
    old = {p.adno: p for p in school.pupils}
    year6 = {p.adno for p in school.pupils if p.year == "Year 6"}
    assert year6 and not year6 & {p.adno for p in new.pupils}
    intake = [p for p in new.pupils if p.adno not in old]
    assert intake and all(p.year == "Reception" for p in intake)
    assert not {p.upn for p in intake} & {p.upn for p in school.pupils}
    assert all(dob_fits(p.year, p.dob, new.academic_year) for p in new.pupils)
    assert set(new.class_ids) == set(school.class_ids)
    assert not set(new.class_ids.values()) & set(school.class_ids.values())
    years = sample.PRIMARY_YEARS
    for pupil in new.pupils:
        if pupil.adno in old:
            was = old[pupil.adno]
            assert (pupil.upn, pupil.dob, pupil.surname) == (was.upn, was.dob, was.surname)
            assert years.index(pupil.year) == years.index(was.year) + 1
            assert pupil.reg_group_id == new.class_ids[pupil.reg_group]
    staff_before, staff_after = {s.staff_code for s in school.staff}, {s.staff_code for s in new.staff}
    assert len(staff_before - staff_after) == 1 and len(staff_after - staff_before) == 1
    assert next_academic_year(school, seed=1) == new


def test_mid_year_changes(school: SampleSchool) -> None:
    before = copy.deepcopy(school)
    new = mid_year_changes(school, seed=4, joiners=5, leavers=3, surname_changes=1)
    assert school == before
    old, now = {p.adno: p for p in school.pupils}, {p.adno: p for p in new.pupils}
    assert len(new.pupils) == len(school.pupils) - 3 + 5
    assert len(old.keys() - now.keys()) == 3
    joiners = [now[a] for a in now.keys() - old.keys()]
    assert len(joiners) == 5 and all(j.reg_group_id == school.class_ids[j.reg_group] for j in joiners)
    assert not {j.upn for j in joiners} & {p.upn for p in school.pupils}
    renamed = [a for a in now.keys() & old.keys() if now[a].surname != old[a].surname]
    assert len(renamed) == 1 and now[renamed[0]].upn == old[renamed[0]].upn
    assert new.class_ids == school.class_ids


# --- writers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_spreadsheet_csv_round_trips(school: SampleSchool, tmp_path: Path, encoding: str) -> None:
    (path,) = write_spreadsheet(school, tmp_path / "deep" / "export.csv", encoding=encoding)
    rows = read_csv(path.read_bytes(), "utf-8-sig" if encoding == "utf-8-sig" else encoding)
    assert list(rows[0]) == list(SPREADSHEET_HEADERS)
    assert len(rows) == len(school.pupils) + len(school.staff)
    pupils = [r for r in rows if r["Role"] == "Pupil"]
    assert [(r["Preferred Forename"], r["Legal Surname"]) for r in pupils] == [
        (p.forename, p.legal_surname) for p in school.pupils
    ]
    first = school.pupils[0]
    assert pupils[0]["DOB"] == first.dob.strftime("%d/%m/%Y")
    assert pupils[0]["Groups"] == ";".join(first.groups)
    staff = [r for r in rows if r["Role"] == "Staff"]
    assert len(staff) == 20 and all(r["Email"] for r in staff)
    teacher = next(s for s in school.staff if s.title == "Teacher")
    row = next(r for r in staff if r["Adno"] == teacher.staff_code)
    assert row["Reg Group"] == teacher.classes[0] and row["Groups"] == ";".join(teacher.classes[1:])


def test_spreadsheet_split(school: SampleSchool, tmp_path: Path) -> None:
    pupils_path, staff_path = write_spreadsheet(school, tmp_path / "export.csv", split=True)
    assert (pupils_path.name, staff_path.name) == ("export-pupils.csv", "export-staff.csv")
    headers = [h for h in SPREADSHEET_HEADERS if h != "Role"]
    pupils, staff = read_csv(pupils_path.read_bytes()), read_csv(staff_path.read_bytes())
    assert list(pupils[0]) == headers
    staff_headers = [h for h in headers if h not in ("UPN", "Year", "DOB")]
    assert list(staff[0]) == ["Staff Code" if h == "Adno" else h for h in staff_headers]
    assert (len(pupils), len(staff)) == (len(school.pupils), len(school.staff))
    # and missync reads the pair back as pupils and staff
    roster = read_sources([pupils_path, staff_path])
    assert sum(p.role == "staff" for p in roster.people) == len(school.staff)
    assert not [p for p in roster.people if p.problems]


def test_spreadsheet_xlsx(school: SampleSchool, tmp_path: Path) -> None:
    (path,) = write_spreadsheet(school, tmp_path / "export.xlsx")
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0] == SPREADSHEET_HEADERS
    assert len(rows) == 1 + len(school.pupils) + len(school.staff)
    dob = rows[1][SPREADSHEET_HEADERS.index("DOB")]
    assert isinstance(dob, datetime) and dob.date() == school.pupils[0].dob
    _, staff_path = write_spreadsheet(school, tmp_path / "split.xlsx", split=True)
    assert openpyxl.load_workbook(staff_path).active.max_row == 1 + len(school.staff)


def test_oneroster_11_zip(school: SampleSchool, tmp_path: Path) -> None:
    path = write_oneroster(school, tmp_path / "out" / "roster.zip")
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert "roles.csv" not in files
    manifest = {r["propertyName"]: r["value"] for r in read_csv(files["manifest.csv"])}
    assert manifest["oneroster.version"] == "1.1" and manifest["file.users"] == "bulk"
    assert manifest["file.lineItems"] == "absent"
    tables = {name.removesuffix(".csv"): read_csv(data) for name, data in files.items()}
    assert set(tables) == {"manifest", *(n.removeprefix("file.") for n, v in manifest.items() if v == "bulk")}
    assert list(tables["users"][0]) == USERS_11
    assert list(tables["enrollments"][0]) == ENROLLMENTS
    for name, rows in tables.items():
        if name != "manifest":
            assert list(rows[0]) == oneroster_columns(name)
    users = tables["users"]
    assert len(users) == len(school.pupils) + len(school.staff)
    pupil = school.pupils[0]
    row = next(r for r in users if r["identifier"] == pupil.adno)
    assert (row["role"], row["userIds"], row["grades"], row["givenName"]) == (
        "student",
        f"{{UPN:{pupil.upn}}}",
        "KG",
        pupil.forename,
    )
    assert {r["role"] for r in users} == {"student", "teacher", "aide", "administrator"}
    classes = {r["sourcedId"]: r for r in tables["classes"]}
    homerooms = [r for r in classes.values() if r["classType"] == "homeroom"]
    assert sorted(r["sourcedId"] for r in homerooms) == sorted(school.class_ids.values())
    assert len(classes) == len(school.class_ids) + len(school.subject_groups())
    user_ids = {r["sourcedId"] for r in users}
    enrollments = tables["enrollments"]
    assert all(e["classSourcedId"] in classes and e["userSourcedId"] in user_ids for e in enrollments)
    assert len({e["sourcedId"] for e in enrollments}) == len(enrollments)
    students = [e for e in enrollments if e["role"] == "student"]
    assert len(students) == sum(1 + len(p.groups) for p in school.pupils)
    assert sum(e["primary"] == "true" for e in enrollments) == 14
    births = {r["sourcedId"]: r["birthDate"] for r in tables["demographics"]}
    assert births[f"u-{pupil.adno}"] == pupil.dob.isoformat()


def test_oneroster_12_folder_delta(school: SampleSchool, tmp_path: Path) -> None:
    folder = write_oneroster(school, tmp_path / "or12", version="1.2", delta=True)
    manifest = {r["propertyName"]: r["value"] for r in read_csv((folder / "manifest.csv").read_bytes())}
    assert manifest["oneroster.version"] == "1.2" and manifest["file.roles"] == "delta"
    users = read_csv((folder / "users.csv").read_bytes())
    assert "role" not in users[0] and "orgSourcedIds" not in users[0]
    assert set(USERS_12_ADDED) <= set(users[0])
    assert all(u["status"] == "active" and u["dateLastModified"] for u in users)
    known_as = next(p for p in school.pupils if p.forename != p.legal_forename)
    row = next(u for u in users if u["identifier"] == known_as.adno)
    assert (row["givenName"], row["preferredGivenName"]) == (known_as.legal_forename, known_as.forename)
    plain = next(p for p in school.pupils if p.forename == p.legal_forename and p.surname == p.legal_surname)
    row = next(u for u in users if u["identifier"] == plain.adno)
    assert (row["preferredGivenName"], row["preferredFamilyName"]) == ("", "")
    roles = read_csv((folder / "roles.csv").read_bytes())
    assert list(roles[0]) == ROLES_12
    assert len(roles) == len(users) and {r["roleType"] for r in roles} == {"primary"}


def test_sourced_ids_stable_across_years(school: SampleSchool, tmp_path: Path) -> None:
    later = next_academic_year(school, seed=1)
    first = read_csv(zipfile.ZipFile(write_oneroster(school, tmp_path / "a.zip")).read("users.csv"))
    second = read_csv(zipfile.ZipFile(write_oneroster(later, tmp_path / "b.zip")).read("users.csv"))
    ids = {u["identifier"]: u["sourcedId"] for u in first}
    assert all(ids.get(u["identifier"], u["sourcedId"]) == u["sourcedId"] for u in second)
    assert (tmp_path / "a.zip").read_bytes() == write_oneroster(school, tmp_path / "c.zip").read_bytes()
