"""OneRoster 1.1/1.2 CSV: the shared real samples, and generated sets for each defect seen in the wild."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from missync.core.roster import Person, Problem, Roster, SourceError
from missync.sources.oneroster import read_oneroster

from .builders import (
    CLASSES,
    ENROLLMENTS,
    ROLES,
    SHARED_DATA,
    USERS_11,
    USERS_12,
    enrol,
    klass,
    manifest,
    role_row,
    table,
    user_11,
    user_12,
)
from .conftest import Writer

NO_REG_GROUP_FIX = (
    "Fix: give the pupil a registration group (their form or class) in the MIS, then sync again."
)


def person(roster: Roster, key: str) -> Person:
    return next(p for p in roster.people if p.key == key)


def errors(p: Person) -> list[Problem]:
    return [problem for problem in p.problems if problem.severity == "error"]


def minimal_set(**overrides: str | bytes) -> dict[str, str | bytes]:
    """A small valid 1.1 bulk set: a teacher, two pupils in a registration group and a subject group."""
    files: dict[str, str | bytes] = {
        "manifest.csv": manifest(),
        "users.csv": table(
            USERS_11,
            user_11("t1", "teacher", "Ada", "Quill", email="a.quill@school.example"),
            user_11("p1", "student", "Bram", "Ostler", grades="05"),
            user_11("p2", "student", "Cleo", "Varden", grades="05"),
        ),
        "classes.csv": table(
            CLASSES, klass("c-reg", "5Q", "homeroom"), klass("c-sci", "Science 5", "scheduled")
        ),
        "enrollments.csv": table(
            ENROLLMENTS,
            enrol("e1", "c-reg", "t1", "teacher"),
            enrol("e2", "c-reg", "p1"),
            enrol("e3", "c-reg", "p2"),
            enrol("e4", "c-sci", "p1"),
        ),
    }
    files.update(overrides)
    return files


# ------------------------------------------------------------------------------------- shared samples


def test_shared_11_bulk_sample() -> None:
    roster = read_oneroster(SHARED_DATA / "oneroster" / "oneroster-1.1-bulk-minimal.zip")
    assert roster.source == "oneroster"
    assert roster.complete is True
    assert roster.description == "OneRoster 1.1 bulk, oneroster-1.1-bulk-minimal.zip"
    staff = sorted(p.display_name for p in roster.people if p.role == "staff")
    pupils = sorted(p.display_name for p in roster.people if p.role == "pupil")
    assert staff == ["Jim Smith", "John Doe"]
    assert pupils == ["Anna Brown", "Mary Jones", "mmichel Jones"]  # the parent Thomas Jones is not read
    physics, history = roster.groups["cls-222-123456"], roster.groups["cls-222-123478"]
    assert (physics.name, physics.kind, physics.mis_id) == (
        "Introduction to Physics",
        "subject",
        "cls-222-123456",
    )
    assert (history.name, history.kind) == ("History - 2", "registration")
    assert len(roster.groups) == 2

    john = person(roster, "usr-222-123456")
    assert john.mis_id == "jogn.doe"
    assert john.groups == ("cls-222-123456", "cls-222-123478")
    mmichel = person(roster, "usr-222-1234561232")
    assert mmichel.registration_group == "cls-222-123478"
    assert mmichel.groups == ("cls-222-123456",)
    assert mmichel.mis_id == "usr-222-1234561232"  # no identifier: the sourcedId
    assert mmichel.problems == ()

    # Jim Smith is a teacher in users.csv but enrolled as a student: users.csv decides his role, the
    # classes count as his, and each odd enrolment is a warning naming its row.
    jim = person(roster, "usr-222-987654")
    assert jim.role == "staff"
    assert jim.groups == ("cls-222-123456", "cls-222-123478")
    role_warnings = [p for p in jim.problems if p.severity == "warning"]
    assert [(p.file, p.row, p.column) for p in role_warnings] == [
        ("enrollments.csv", 3, "role"),
        ("enrollments.csv", 6, "role"),
    ]

    for key, row in (("usr-222-66778899", 3), ("usr-222-567891", 7)):  # Mary Jones, Anna Brown
        [problem] = errors(person(roster, key))
        assert (problem.file, problem.row, problem.fix) == ("users.csv", row, NO_REG_GROUP_FIX)
        assert problem.person == key
    for key in ("usr-222-123456", "usr-222-987654"):  # neither teacher has an email address
        [problem] = errors(person(roster, key))
        assert problem.column == "email"
        assert "activation email" in problem.message
    assert roster.fatal_problems == []


def test_shared_12_delta_sample() -> None:
    roster = read_oneroster(SHARED_DATA / "oneroster" / "oneroster-1.2-delta-small.zip")
    assert roster.complete is False
    assert roster.description.startswith("OneRoster 1.2 delta")
    assert roster.removed == set()
    [bruce] = roster.people
    assert (bruce.key, bruce.role, bruce.forename, bruce.surname) == ("USER_0", "pupil", "Bruce", "Wayne")
    assert bruce.mis_id == "bruce.wayne"
    assert bruce.dob == dt.date(2010, 4, 17)
    assert bruce.groups == ("CLASS_001",)
    assert roster.groups["CLASS_001"].kind == "subject"


# ---------------------------------------------------------------------------------------- generated


def test_minimal_set_reads_clean(oneroster_zip: Writer) -> None:
    roster = read_oneroster(oneroster_zip(minimal_set()))
    assert roster.problems == []
    bram = person(roster, "p1")
    assert (bram.registration_group, bram.groups, bram.year) == ("c-reg", ("c-sci",), "05")
    assert person(roster, "t1").groups == ("c-reg",)
    assert person(roster, "t1").year is None


def test_12_preferred_names_and_roles(oneroster_zip: Writer) -> None:
    files = minimal_set(
        **{
            "manifest.csv": manifest("1.2"),
            "users.csv": table(
                USERS_12,
                user_12("t1", "Ada", "Quill", email="a.quill@school.example"),
                user_12("p1", "Bartholomew", "Ostler", preferredGivenName="Bram", grades="Year 5"),
                user_12("p2", "Cleo", "Varden-Hale", preferredFamilyName="Varden"),
            ),
            "roles.csv": table(
                ROLES,
                role_row("r0", "t1", "parent", "secondary"),
                role_row("r1", "t1", "teacher"),
                role_row("r2", "p1", "student"),
                role_row("r3", "p2", "student"),
            ),
        }
    )
    roster = read_oneroster(oneroster_zip(files))
    assert roster.description.startswith("OneRoster 1.2 bulk")
    assert person(roster, "t1").role == "staff"  # the primary role wins over an earlier secondary one
    bram = person(roster, "p1")
    assert (bram.forename, bram.surname, bram.legal_forename, bram.legal_surname) == (
        "Bram",
        "Ostler",
        "Bartholomew",
        "Ostler",
    )
    assert bram.year == "Year 5"
    cleo = person(roster, "p2")
    assert (cleo.forename, cleo.surname, cleo.legal_surname) == ("Cleo", "Varden", "Varden-Hale")
    assert roster.problems == []


def test_12_without_roles_is_refused(oneroster_zip: Writer) -> None:
    files = minimal_set(**{"users.csv": table(USERS_12, user_12("p1", "Bram", "Ostler"))})
    with pytest.raises(SourceError, match=r"roles\.csv"):
        read_oneroster(oneroster_zip(files))


def test_upn_upi_and_former_upn_from_user_ids(oneroster_zip: Writer) -> None:
    ids = "{upn:A123456789012},{LDAP:12},{UPI:8f3c},{FormerUPN:B999999999999}"
    users = table(USERS_11, user_11("p1", "student", "Bram", "Ostler", userIds=ids, identifier="ADM-7"))
    roster = read_oneroster(oneroster_zip(minimal_set(**{"users.csv": users})))
    bram = person(roster, "p1")
    assert (bram.upn, bram.upi, bram.former_upn, bram.mis_id) == (
        "A123456789012",
        "8f3c",
        "B999999999999",
        "ADM-7",
    )


def test_delta_removals(oneroster_zip: Writer) -> None:
    files = {
        "manifest.csv": manifest(mode="delta"),
        "users.csv": table(
            USERS_11,
            user_11("p1", "student", "Bram", "Ostler", status="active"),
            user_11("p2", "student", "Cleo", "Varden", status="tobedeleted"),
            user_11("p3", "student", "Dara", "Fenn", status="inactive"),
        ),
        "classes.csv": table(CLASSES, klass("c-reg", "5Q", "homeroom", "active")),
        "enrollments.csv": table(
            ENROLLMENTS,
            enrol("e1", "c-reg", "p1", status="active"),
            enrol("e2", "c-reg", "p2", status="active"),  # for a removed pupil: not a dangling reference
            enrol("e3", "c-gone", "p1", status="tobedeleted"),  # removed enrolments are not read at all
        ),
    }
    roster = read_oneroster(oneroster_zip(files))
    assert roster.complete is False
    assert roster.removed == {"p2", "p3"}
    assert [p.key for p in roster.people] == ["p1"]
    assert person(roster, "p1").registration_group == "c-reg"
    assert roster.problems == []


@pytest.mark.parametrize(
    ("homeroom", "scheduled"),
    [("HOMEROOM", "Scheduled"), ("Homeroom", "SCHEDULED"), (" homeroom ", "scheduled")],
)
def test_class_type_in_any_case(oneroster_zip: Writer, homeroom: str, scheduled: str) -> None:
    classes = table(CLASSES, klass("c-reg", "5Q", homeroom), klass("c-sci", "Science 5", scheduled))
    roster = read_oneroster(oneroster_zip(minimal_set(**{"classes.csv": classes})))
    assert roster.groups["c-reg"].kind == "registration"
    assert roster.groups["c-sci"].kind == "subject"
    assert roster.problems == []


def test_other_class_type_is_a_subject_group_with_a_warning(oneroster_zip: Writer) -> None:
    classes = table(CLASSES, klass("c-reg", "5Q", "homeroom"), klass("c-sci", "Science 5", "lab"))
    roster = read_oneroster(oneroster_zip(minimal_set(**{"classes.csv": classes})))
    assert roster.groups["c-sci"].kind == "subject"
    [warning] = roster.problems
    assert (warning.severity, warning.file, warning.row, warning.column) == (
        "warning",
        "classes.csv",
        3,
        "classType",
    )


def test_bom_no_trailing_newline_header_typos_and_blank_columns(oneroster_zip: Writer) -> None:
    header = USERS_11.replace("dateLastModified", "dataLastModified") + ",,"
    users = (
        header
        + "\r\n"
        + user_11("p1", "student", "Zoë", "Ó Briain")
        + "\r\n"
        + user_11("p2", "student", "Siân", "Ng")
    )
    files = minimal_set(**{"users.csv": b"\xef\xbb\xbf" + users.encode("utf-8")})
    roster = read_oneroster(oneroster_zip(files))
    assert [(p.forename, p.surname) for p in roster.people] == [("Zoë", "Ó Briain"), ("Siân", "Ng")]
    assert person(roster, "p2").registration_group == "c-reg"  # the last line, with no newline, is read


def test_dangling_enrollments_are_warnings_naming_the_row(oneroster_zip: Writer) -> None:
    enrollments = table(
        ENROLLMENTS,
        enrol("e1", "c-reg", "t1", "teacher"),
        enrol("e2", "c-reg", "p1"),
        enrol("e3", "c-reg", "p2"),
        enrol("e4", "c-missing", "p1"),
        enrol("e5", "c-reg", "ghost"),
    )
    roster = read_oneroster(oneroster_zip(minimal_set(**{"enrollments.csv": enrollments})))
    dangling = [(p.severity, p.row, p.column) for p in roster.problems]
    assert dangling == [("warning", 5, "classSourcedId"), ("warning", 6, "userSourcedId")]
    assert "c-missing" in roster.problems[0].message
    assert person(roster, "p1").groups == ()


def test_more_than_one_homeroom_uses_the_first(oneroster_zip: Writer) -> None:
    classes = table(CLASSES, klass("c-reg", "5Q", "homeroom"), klass("c-reg2", "5R", "homeroom"))
    enrollments = table(
        ENROLLMENTS, enrol("e1", "c-reg", "p1"), enrol("e2", "c-reg2", "p1"), enrol("e3", "c-reg", "p2")
    )
    roster = read_oneroster(
        oneroster_zip(minimal_set(**{"classes.csv": classes, "enrollments.csv": enrollments}))
    )
    bram = person(roster, "p1")
    assert bram.registration_group == "c-reg"
    [warning] = bram.problems
    assert (warning.severity, warning.file, warning.row) == ("warning", "enrollments.csv", 3)
    assert "'5Q'" in warning.message and "'5R'" in warning.message


def test_missing_users_csv_is_refused(oneroster_zip: Writer) -> None:
    files = minimal_set()
    del files["users.csv"]
    with pytest.raises(SourceError, match=r"has no users\.csv"):
        read_oneroster(oneroster_zip(files))


def test_delta_without_users_reads_no_one(oneroster_zip: Writer) -> None:
    files = minimal_set(**{"manifest.csv": manifest(mode="delta", users="absent")})
    del files["users.csv"]
    roster = read_oneroster(oneroster_zip(files))
    assert (roster.people, roster.complete) == ([], False)


@pytest.mark.parametrize("column", ["sourcedId", "givenName", "familyName"])
def test_missing_required_column_is_refused(oneroster_zip: Writer, column: str) -> None:
    users = table(USERS_11.replace(column, "something"), user_11("p1", "student", "Bram", "Ostler"))
    with pytest.raises(SourceError, match=f"users.csv: has no {column} column"):
        read_oneroster(oneroster_zip(minimal_set(**{"users.csv": users})))


def test_duplicate_sourced_id(oneroster_zip: Writer) -> None:
    users = table(
        USERS_11,
        user_11("p1", "student", "Bram", "Ostler"),
        user_11("p2", "student", "Cleo", "Varden"),
        user_11("p1", "student", "Dara", "Fenn"),
    )
    roster = read_oneroster(oneroster_zip(minimal_set(**{"users.csv": users})))
    assert len(roster.people) == 3
    assert len({p.key for p in roster.people}) == 3  # keys stay unique: the repeat is "p1#row4"
    dara = next(p for p in roster.people if p.forename == "Dara")
    assert dara.key == "p1#row4"
    [problem] = [p for p in errors(dara) if "same" in p.message]
    assert (problem.file, problem.row, problem.column, problem.person) == (
        "users.csv",
        4,
        "sourcedId",
        "p1#row4",
    )
    assert problem.fix.startswith("Fix:")
    bram = person(roster, "p1")  # neither row can be trusted, so both are kept out
    assert any("same" in p.message for p in errors(bram))


def test_no_manifest_is_bulk_with_a_warning(oneroster_zip: Writer) -> None:
    files = minimal_set()
    del files["manifest.csv"]
    roster = read_oneroster(oneroster_zip(files))
    assert roster.complete is True
    [warning] = roster.problems
    assert warning.severity == "warning" and "manifest.csv" in warning.message


def test_birth_dates(oneroster_zip: Writer) -> None:
    demographics = table(
        "sourcedId,status,dateLastModified,birthDate,sex",
        "p1,,,4/2/2015,",
        "p2,,,someday,",
        "t9,,,2000-01-01,",
    )
    roster = read_oneroster(oneroster_zip(minimal_set(**{"demographics.csv": demographics})))
    bram, cleo = person(roster, "p1"), person(roster, "p2")
    assert bram.dob == dt.date(2015, 4, 2)
    assert cleo.dob is None
    assert [(p.severity, p.file, p.row, p.column) for p in (*bram.problems, *cleo.problems)] == [
        ("warning", "demographics.csv", 2, "birthDate"),
        ("warning", "demographics.csv", 3, "birthDate"),
    ]


def test_missing_names_and_staff_email(oneroster_zip: Writer) -> None:
    users = table(
        USERS_11,
        user_11("t1", "teacher", "Ada", "Quill"),
        user_11("p1", "student", "", "Ostler"),
        user_11("p2", "student", "Cleo", " "),
    )
    roster = read_oneroster(oneroster_zip(minimal_set(**{"users.csv": users})))
    found = [(p.person, p.row, p.column) for p in roster.problems]
    assert found == [("t1", 2, "email"), ("p1", 3, "givenName"), ("p2", 4, "familyName")]


def test_folder_and_zipped_folder(oneroster_zip: Writer, tmp_path: Path) -> None:
    nested = read_oneroster(oneroster_zip(minimal_set(), name="nested.zip", folder="export/"))
    assert len(nested.people) == 3
    folder = tmp_path / "set"
    folder.mkdir()
    for name, content in minimal_set().items():
        (folder / name).write_text(str(content), encoding="utf-8")
    assert len(read_oneroster(folder).people) == 3


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "oneroster.zip"
    path.write_text("hello")
    with pytest.raises(SourceError, match="not a zip file"):
        read_oneroster(path)


def test_blank_role_keeps_the_person_with_an_error_and_other_roles_are_left_out(
    oneroster_zip: Writer,
) -> None:
    users = table(
        USERS_11,
        user_11("p1", "", "Bram", "Ostler", grades="05"),
        user_11("x1", "ext:governor", "Cleo", "Varden"),
        user_11("g1", "guardian", "Dara", "Ostler"),
    )
    roster = read_oneroster(oneroster_zip(minimal_set(**{"users.csv": users})))
    assert [p.key for p in roster.people] == ["p1"]  # the guardian is read past without a word
    [no_role] = errors(person(roster, "p1"))
    assert (no_role.file, no_role.row, no_role.column) == ("users.csv", 2, "role")
    [governor] = [p for p in roster.problems if p.severity == "warning" and p.column == "role"]
    assert (governor.row, governor.person) == (3, "")
    assert "ext:governor" in governor.message


def test_12_user_missing_from_roles_csv(oneroster_zip: Writer) -> None:
    files = minimal_set(
        **{
            "users.csv": table(USERS_12, user_12("p1", "Bram", "Ostler"), user_12("p2", "Cleo", "Varden")),
            "roles.csv": table(ROLES, role_row("r1", "p1", "student")),
        }
    )
    roster = read_oneroster(oneroster_zip(files))
    [problem] = errors(person(roster, "p2"))
    assert (problem.file, problem.row, problem.column) == ("roles.csv", None, "role")
