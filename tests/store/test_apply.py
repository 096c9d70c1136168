"""Apply and undo against the real database (SQLite, and PostgreSQL in the second pass)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from missync.accounts import apply as apply_module
from missync.accounts.apply import NothingToUndo, StoreChanged, apply_plan, undo_last_run
from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, Membership, School, SchoolClass, SyncRun
from missync.accounts.services import add_user, preview
from missync.accounts.store import load_snapshot
from missync.sample import generate_school, next_academic_year, write_spreadsheet
from tests.store.helpers import school_state


@pytest.fixture
def export(tmp_path: Path) -> list[str]:
    return [str(p) for p in write_spreadsheet(generate_school(seed=11), tmp_path / "export.csv")]


@pytest.fixture
def school(db: None) -> School:
    return School.objects.create(slug="oakfield", name="Oakfield Primary School")


def test_first_apply_writes_the_plan_and_a_resync_plans_nothing(school: School, export: list[str]) -> None:
    plan = preview(school, export).plan
    summary = plan.summary()
    run = apply_plan(school, plan)
    pupils = Account.objects.filter(school=school, role="pupil")
    assert pupils.count() == summary["new_pupils"] > 300
    assert Account.objects.filter(school=school, role="staff").count() == summary["new_staff"]
    assert SchoolClass.objects.filter(school=school).count() == summary["new_classes"]
    assert all(p.registration_class_id for p in pupils)
    assert run.changes.count() == summary["new_pupils"] + summary["new_staff"] + summary["new_classes"]
    # credentials are stored encrypted, and decrypt to what the plan generated
    by_username = {c.after.username: c.password for c in plan.people if c.password}
    for account in pupils[:20]:
        assert account.credential.startswith("gAAAA") and account.credential != by_username[account.username]
        assert decrypt_credential(account.credential) == by_username[account.username]
    again = preview(school, export).plan
    assert not again.has_changes
    assert again.summary()["unchanged"] == summary["new_pupils"] + summary["new_staff"]


def test_undo_restores_exactly(school: School, export: list[str], tmp_path: Path) -> None:
    apply_plan(school, preview(school, export).plan)
    next_year = write_spreadsheet(next_academic_year(generate_school(seed=11), seed=12), tmp_path / "y2.csv")
    before = school_state(school)
    plan = preview(school, [str(p) for p in next_year]).plan
    assert plan.summary()["moved"] > 300
    apply_plan(school, plan, confirm_hold=True)
    assert school_state(school) != before
    undo_last_run(school)
    assert school_state(school) == before
    assert SyncRun.objects.filter(school=school, kind="undo").count() == 1
    # the undone run cannot be undone twice; the first sync can still be undone, to an empty school
    undo_last_run(school)
    assert not Account.objects.filter(school=school).exists()
    assert not SchoolClass.objects.filter(school=school).exists()
    with pytest.raises(NothingToUndo):
        undo_last_run(school)


def test_a_failure_in_the_middle_of_apply_changes_nothing(
    school: School, export: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(school, forename="Hand", surname="Made", year="Year 2")
    before = school_state(school)
    revision = School.objects.get(pk=school.pk).revision
    plan = preview(school, export).plan

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # accounts and classes have been written when memberships fail
    monkeypatch.setattr(apply_module, "_replace_memberships", broken)
    with pytest.raises(RuntimeError):
        apply_plan(school, plan)
    assert school_state(school) == before
    assert School.objects.get(pk=school.pk).revision == revision
    assert not SyncRun.objects.filter(school=school).exists()


def test_apply_refuses_when_the_store_changed_since_the_preview(school: School, export: list[str]) -> None:
    plan = preview(school, export).plan
    add_user(school, forename="Late", surname="Addition", year="Year 1")
    before = school_state(school)
    with pytest.raises(StoreChanged):
        apply_plan(school, plan)
    assert school_state(school) == before


def test_undo_refuses_after_a_manual_change(school: School, export: list[str]) -> None:
    apply_plan(school, preview(school, export).plan)
    add_user(school, forename="Late", surname="Addition", year="Year 1")
    with pytest.raises(StoreChanged):
        undo_last_run(school)


def test_one_school_never_touches_another(db: None, export: list[str]) -> None:
    first = School.objects.create(slug="one", name="One")
    second = School.objects.create(slug="two", name="Two")
    apply_plan(first, preview(first, export).plan)
    plan = preview(second, export).plan
    assert plan.summary()["new_pupils"] > 300  # nothing of school one is visible to school two
    assert not load_snapshot(second).accounts
    apply_plan(second, plan)
    assert Account.objects.filter(school=first).count() == Account.objects.filter(school=second).count()
    undo_last_run(second)
    assert Account.objects.filter(school=first).count() > 300
    assert not Account.objects.filter(school=second).exists()
    assert Membership.objects.filter(school=first).count() > 0


@pytest.mark.django_db(transaction=True)
def test_two_applies_for_one_school_never_interleave(export: list[str]) -> None:
    school = School.objects.create(slug="race", name="Race")
    plans = [preview(school, export).plan for _ in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            barrier.wait()
            apply_plan(School.objects.get(pk=school.pk), plans[index])
            outcomes.append("applied")
        except StoreChanged:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "refused"]
    assert SyncRun.objects.filter(school=school).count() == 1
    assert (
        Account.objects.filter(school=school).count()
        == plans[0].summary()["new_pupils"] + plans[0].summary()["new_staff"]
    )
