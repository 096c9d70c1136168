"""Microsoft SDS CSV sets: the public samples (UK and US v1) read with the right counts, and v2.1."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from missync.core.roster import Roster, SourceError
from missync.sources import read_sources
from missync.sources.sds import read_sds, sds_version

SAMPLES = ("sds-uk-25-users", "sds-uk-min-required", "sds-v1-25-users")


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_counts(folder: Path) -> dict[str, int]:
    """Counted straight from the CSV files, whichever variant's headers they use."""
    ident = "ID" if "ID" in rows(folder, "Student.csv")[0] else "SIS ID"
    section = "Section ID" if ident == "ID" else "Section SIS ID"
    sections = {row[ident] for row in rows(folder, "Section.csv")}
    pupils = {row[ident] for row in rows(folder, "Student.csv")}
    staff = {row[ident] for row in rows(folder, "Teacher.csv")}
    enrolments = sum(
        1
        for name, people in (("StudentEnrollment.csv", pupils), ("TeacherRoster.csv", staff))
        for row in rows(folder, name)
        if row[section] in sections and row[ident] in people
    )
    return {"pupils": len(pupils), "staff": len(staff), "classes": len(sections), "enrolments": enrolments}


def counts(roster: Roster) -> dict[str, int]:
    return {
        "pupils": sum(p.role == "pupil" for p in roster.people),
        "staff": sum(p.role == "staff" for p in roster.people),
        "classes": len(roster.groups),
        "enrolments": sum(len(p.groups) + bool(p.registration_group) for p in roster.people),
    }


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_public_samples_read_with_the_right_counts(shared_data: Path, sample: str) -> None:
    folder = shared_data / "sds" / sample
    roster = read_sources([folder])
    assert roster.source == "sds" and roster.complete
    assert roster.description == f"SDS v1 CSV, {sample}"
    assert counts(roster) == expected_counts(folder)
    assert counts(roster)["pupils"] == 22 and counts(roster)["staff"] == 2


def test_the_uk_sample_maps_names_ids_years_and_dates(shared_data: Path) -> None:
    roster = read_sds(shared_data / "sds" / "sds-uk-25-users")
    first = next(p for p in roster.people if p.key == "13001")
    assert (first.forename, first.surname, first.mis_id, first.year) == ("Ora", "Klein", "13001", "9")
    assert first.dob is not None and (first.dob.month, first.dob.day) == (4, 2)  # US month/day
    # these sections are all subject classes: pupils have no registration group and are kept out, said why
    assert all(g.kind == "subject" for g in roster.groups.values())
    assert any("registration" in p.message for p in first.problems)
    assert any("No class in this SDS export is a registration group" in p.message for p in roster.problems)
    # teachers have no email address in this sample: kept out with the reason
    teacher = next(p for p in roster.people if p.role == "staff")
    assert any("no email address" in p.message for p in teacher.problems)


def test_the_minimum_set_keeps_nameless_people_out_with_a_reason(shared_data: Path) -> None:
    roster = read_sds(shared_data / "sds" / "sds-uk-min-required")
    assert all(any("has no forename" in p.message for p in person.problems) for person in roster.people)


def test_one_school_can_be_chosen(shared_data: Path) -> None:
    roster = read_sds(shared_data / "sds" / "sds-uk-25-users", school="10002")
    assert not roster.people  # every pupil and teacher of the sample is at 10001
    assert len(roster.groups) == 14


@pytest.mark.parametrize("missing", ["Student.csv", "TeacherRoster.csv", "School.csv"])
def test_a_missing_file_is_an_error_never_mass_leavers(
    shared_data: Path, tmp_path: Path, missing: str
) -> None:
    folder = tmp_path / "sds"
    shutil.copytree(shared_data / "sds" / "sds-uk-25-users", folder)
    (folder / missing).unlink()
    with pytest.raises(SourceError, match=f"has no {missing}.*nothing is read"):
        read_sources([folder])


def test_a_missing_required_column_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sds"
    shutil.copytree(shared_data / "sds" / "sds-v1-25-users", folder)
    text = (folder / "Teacher.csv").read_text(encoding="utf-8").replace("Username", "Login")
    (folder / "Teacher.csv").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=r"Teacher\.csv: has no 'username' column"):
        read_sds(folder)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_registration_sections_become_registration_groups(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "uk",
        {
            "School.csv": "DfE Number,Name\n9991234,Made-up Primary\n",
            "Section.csv": "ID,School DfE Number,Section Name,Course Subject\n"
            "s1,9991234,4 Oak,Registration\ns2,9991234,Y4 Maths Set 1,Maths\n",
            "Student.csv": "ID,School DfE Number,First Name,Last Name,Username,Grade,Birthdate\n"
            "p1,9991234,Zoë,O'Brien,zob,Year 4,3/14/2017\n",
            "Teacher.csv": "ID,School DfE Number,First Name,Last Name,Username,Secondary Email\n"
            "t1,9991234,Ann,Teacher,ateacher,ann@school.example.org\n",
            "StudentEnrollment.csv": "Section ID,ID\ns1,p1\ns2,p1\ns9,p1\n",
            "TeacherRoster.csv": "Section ID,ID\ns1,t1\n",
        },
    )
    roster = read_sds(folder)
    pupil = next(p for p in roster.people if p.role == "pupil")
    assert pupil.registration_group == "s1" and pupil.groups == ("s2",)
    assert pupil.forename == "Zoë" and pupil.dob is not None and pupil.dob.isoformat() == "2017-03-14"
    assert not pupil.problems
    teacher = next(p for p in roster.people if p.role == "staff")
    assert teacher.email == "ann@school.example.org" and teacher.groups == ("s1",)
    dangling = [p for p in roster.problems if "'s9'" in p.message]
    assert dangling and dangling[0].file == "StudentEnrollment.csv" and dangling[0].row == 4


def test_a_pupils_only_section_is_their_class_when_none_is_marked_registration(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "primary",
        {
            "School.csv": "DfE Number,Name\n9991234,Made-up Primary\n",
            "Section.csv": "ID,School DfE Number,Section Name\ns1,9991234,3 Oak\ns2,9991234,3 Ash\n"
            "s3,9991234,Choir\n",
            "Student.csv": "ID,School DfE Number,First Name,Last Name,Username,Grade\n"
            "p1,9991234,Amy,Lee,alee,Year 3\np2,9991234,Ben,Ray,bray,Year 3\n"
            "p3,9991234,Cat,Fox,cfox,Year 3\n",
            "Teacher.csv": "ID,School DfE Number,First Name,Last Name,Username,Secondary Email\n"
            "t1,9991234,Ann,Teacher,ateacher,ann@school.example.org\n",
            "StudentEnrollment.csv": "Section ID,ID\ns1,p1\ns2,p2\ns1,p3\ns3,p3\n",
            "TeacherRoster.csv": "Section ID,ID\ns1,t1\n",
        },
    )
    roster = read_sds(folder)
    pupils = {p.key: p for p in roster.people if p.role == "pupil"}
    assert (pupils["p1"].registration_group, pupils["p2"].registration_group) == ("s1", "s2")
    # a pupil in a class and a club: the class is the one some pupil has alone
    assert pupils["p3"].registration_group == "s1" and pupils["p3"].groups == ("s3",)
    assert roster.groups["s3"].kind == "subject" and roster.groups["s1"].kind == "registration"
    assert not any(p.problems for p in pupils.values())


V2 = {
    "orgs.csv": "sourcedId,name,type\no1,Made-up Primary,school\n",
    "users.csv": "sourcedId,username,givenName,familyName,password,activeDirectoryMatchId,email,phone,sms\n"
    "u1,pupil1,Seun,Adeyemi,,,,,\nu2,teach1,Bea,Jones,,,bea@school.example.org,,\nu3,parent1,Pat,Adeyemi,,,,,\n",
    "roles.csv": "userSourcedId,orgSourcedId,role,sessionSourcedId,grade,isPrimary,roleStartDate,"
    "roleEndDate\n"
    "u1,o1,student,,Year 5,true,,\nu2,o1,teacher,,,true,,\nu3,o1,guardian,,,true,,\n",
    "classes.csv": "sourcedId,orgSourcedId,title,sessionSourcedIds,courseSourcedId\n"
    "c1,o1,5 Ash Registration,,\nc2,o1,Y5 Maths Set 2,,\n",
    "enrollments.csv": "classSourcedId,userSourcedId,role\nc1,u1,student\nc2,u1,student\nc1,u2,teacher\n",
    "demographics.csv": "userSourcedId,birthDate\nu1,2015-10-02\n",
}


def test_sds_v2_1_is_read(tmp_path: Path) -> None:
    folder = write(tmp_path / "v2", V2)
    assert sds_version(folder) == "v2.1"
    roster = read_sources([folder])
    assert roster.description == "SDS v2.1 CSV, v2"
    assert counts(roster) == {"pupils": 1, "staff": 1, "classes": 2, "enrolments": 3}
    pupil = next(p for p in roster.people if p.role == "pupil")
    assert (pupil.year, pupil.registration_group, pupil.groups) == ("Year 5", "c1", ("c2",))
    assert pupil.dob is not None and not pupil.problems


def test_sds_v2_1_without_enrollments_is_an_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "v2", {k: v for k, v in V2.items() if k != "enrollments.csv"})
    with pytest.raises(SourceError, match=r"has no enrollments\.csv"):
        read_sources([folder])


def test_a_oneroster_set_is_not_taken_for_sds(shared_data: Path) -> None:
    for zipped in (shared_data / "oneroster").glob("*.zip"):
        assert sds_version(zipped) is None


def test_a_zipped_sds_set_is_read(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "sds" / "sds-v1-25-users"
    archive = Path(shutil.make_archive(str(tmp_path / "sds-export"), "zip", folder.parent, folder.name))
    roster = read_sources([archive])
    assert roster.source == "sds" and counts(roster) == expected_counts(folder)
