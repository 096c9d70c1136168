"""A whole school year, as a school administrator lives it, read from a SIMS-style CSV and from OneRoster.

First sync (with a hand-made account that is a possible duplicate), a mid-year sync (joiners, leavers, a
surname change), then the next academic year's rollover (Year 6 leave, everyone moves class, MIS class ids
change but names stay, a Reception intake, a leaver returns). Expected counts come from the generated
school itself, never from the planner.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from missync.accounts.apply import PlanHeld, apply_plan, undo_last_run
from missync.accounts.models import Account, School
from missync.accounts.services import add_user, list_users, preview
from missync.sample import (
    SampleSchool,
    generate_school,
    mid_year_changes,
    next_academic_year,
    write_oneroster,
    write_spreadsheet,
)
from tests.store.helpers import school_state

pytestmark = pytest.mark.django_db


def export(sample: SampleSchool, folder: Path, fmt: str, name: str) -> list[str]:
    if fmt == "spreadsheet":
        return [str(p) for p in write_spreadsheet(sample, folder / f"{name}.csv")]
    return [str(write_oneroster(sample, folder / f"{name}.zip"))]


def logins(school: School) -> dict[str, tuple[str, str | None]]:
    """Each active pupil's (username, password) keyed by admission number."""
    return {
        row["mis_id"]: (row["username"], row["password"])
        for row in list_users(school, show_passwords=True)
        if row["role"] == "pupil" and row["mis_id"]
    }


def assert_nothing_left_to_do(school: School, paths: list[str]) -> None:
    again = preview(school, paths).plan
    assert not again.has_changes, again.summary()
    assert again.summary()["unchanged"] == again.roster_size - len(again.errors)


@pytest.mark.parametrize("fmt", ["spreadsheet", "oneroster"])
def test_a_school_year(tmp_path: Path, fmt: str) -> None:
    school = School.objects.create(slug="oakfield", name="Oakfield Primary School")
    autumn = generate_school(seed=7)
    pupils, staff = len(autumn.pupils), len(autumn.staff)
    classes = len(autumn.reg_groups()) + len({g for p in autumn.pupils for g in p.groups})

    # Before the first sync a teacher typed one pupil in by hand (no UPN, no MIS id).
    typed = autumn.pupils[40]
    hand_made, hand_password = add_user(
        school, forename=typed.forename, surname=typed.surname, year=typed.year, class_name=typed.reg_group
    )

    # -- first sync --------------------------------------------------------------------------------
    first = export(autumn, tmp_path, fmt, "autumn")
    plan = preview(school, first).plan
    summary = plan.summary()
    assert summary["new_pupils"] == pupils - 1
    assert summary["new_staff"] == staff
    assert summary["possible_duplicates"] == 1
    assert plan.duplicates[0].account_username == hand_made.username
    assert summary["new_classes"] == classes - 1  # the hand-made class has the MIS name: it is used
    assert summary["errors"] == 0 and not plan.held

    # Resolved as "same person": the hand-made account is linked and keeps its login.
    plan = preview(school, first, duplicates={plan.duplicates[0].person_key: "link"}).plan
    apply_plan(school, plan)
    assert Account.objects.filter(school=school).count() == pupils + staff
    linked = logins(school)[typed.adno]
    assert linked == (hand_made.username, hand_password)
    assert_nothing_left_to_do(school, first)

    # -- mid-year: joiners, leavers, a surname change ----------------------------------------------
    spring = mid_year_changes(autumn, seed=8, joiners=5, leavers=3, surname_changes=1)
    before_logins = logins(school)
    renamed = next(
        p
        for p in spring.pupils
        if p.adno in before_logins and p.surname != next(q.surname for q in autumn.pupils if q.adno == p.adno)
    )
    left = [p for p in autumn.pupils if p.adno not in {q.adno for q in spring.pupils}]
    second = export(spring, tmp_path, fmt, "spring")
    plan = preview(school, second).plan
    summary = plan.summary()
    assert (summary["new_pupils"], summary["leavers"], summary["updated"]) == (5, 3, 1)
    assert summary["moved"] == summary["restored"] == summary["possible_duplicates"] == 0
    apply_plan(school, plan)
    assert logins(school)[renamed.adno] == before_logins[renamed.adno]  # same login, new surname
    assert Account.objects.get(school=school, mis_id=renamed.adno).surname == renamed.surname
    archived = {row["mis_id"] for row in list_users(school, archived=True)}
    assert {p.adno for p in left} <= archived
    assert_nothing_left_to_do(school, second)

    # -- the next academic year ----------------------------------------------------------------
    autumn2 = next_academic_year(spring, seed=9)
    returning = dataclasses.replace(
        left[0],
        year="Year 3",
        reg_group="3 " + autumn2.forms[0],
        reg_group_id=autumn2.class_ids["3 " + autumn2.forms[0]],
    )
    if left[0].year == "Year 6":  # a Year 6 leaver would not come back to a primary school
        returning = dataclasses.replace(
            returning,
            year="Year 5",
            reg_group="5 " + autumn2.forms[0],
            reg_group_id=autumn2.class_ids["5 " + autumn2.forms[0]],
        )
    autumn2.pupils.append(returning)
    continuing = {p.adno for p in autumn2.pupils} & {p.adno for p in spring.pupils}
    year6 = [p for p in spring.pupils if p.year == "Year 6"]
    intake = [
        p for p in autumn2.pupils if p.adno not in {q.adno for q in spring.pupils} and p is not returning
    ]
    staff_left = {s.staff_code for s in spring.staff} - {s.staff_code for s in autumn2.staff}
    staff_joined = {s.staff_code for s in autumn2.staff} - {s.staff_code for s in spring.staff}
    assert set(autumn2.class_ids.values()).isdisjoint(spring.class_ids.values())  # MIS ids all changed

    third = export(autumn2, tmp_path, fmt, "autumn2")
    before_rollover = school_state(school)
    logins_before = logins(school)
    plan = preview(school, third).plan
    summary = plan.summary()
    assert summary["leavers"] == len(year6) + len(staff_left)
    assert summary["new_pupils"] == len(intake)
    assert summary["new_staff"] == len(staff_joined)
    assert summary["restored"] == 1
    assert summary["moved"] == len(continuing)
    assert summary["new_classes"] == 0  # class names stay; their new MIS ids are recorded
    assert summary["removed_classes"] == 0
    assert plan.held  # the top year leaving is more than 10% of the school: the admin confirms it
    with pytest.raises(PlanHeld):
        apply_plan(school, plan)
    assert school_state(school) == before_rollover
    apply_plan(school, plan, confirm_hold=True)

    after = logins(school)
    for adno in continuing:
        assert after[adno] == logins_before[adno], "continuing pupils keep username and password"
    returned = Account.objects.get(school=school, mis_id=returning.adno)
    assert returned.status == "active" and returned.year_group == returning.year
    assert after[returning.adno][0] == before_logins[returning.adno][0]
    assert after[returning.adno][1] == before_logins[returning.adno][1]
    assert_nothing_left_to_do(school, third)

    # -- undo puts the school back exactly as it was before the rollover -----------------------------
    undo_last_run(school)
    assert school_state(school) == before_rollover


@pytest.mark.parametrize("fmt", ["spreadsheet", "oneroster"])
def test_a_truncated_export_is_held(tmp_path: Path, fmt: str) -> None:
    school = School.objects.create(slug="oakfield", name="Oakfield Primary School")
    sample = generate_school(seed=3)
    apply_plan(school, preview(school, export(sample, tmp_path, fmt, "full")).plan)
    before = school_state(school)
    truncated = dataclasses.replace(sample, pupils=sample.pupils[:120])
    plan = preview(school, export(truncated, tmp_path, fmt, "truncated")).plan
    assert plan.held
    assert any("far fewer" in reason for reason in plan.hold_reasons)
    assert any("safety limit" in reason for reason in plan.hold_reasons)
    with pytest.raises(PlanHeld):
        apply_plan(school, plan)
    assert school_state(school) == before
