"""Manage Users in real Chromium: a class teacher sees only their own pupils and cannot reach another class
or the wizard by typing its address."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from missync.accounts.apply import apply_plan
from missync.accounts.models import Account, SchoolClass
from missync.accounts.services import preview
from missync.sample import generate_school, write_spreadsheet
from missync.wizard.logins import create_login

from .helpers import PASSWORD, check_step, h1, names, new_school, rowheaders

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_teacher_sees_only_their_pupils_and_gets_404_for_another_class(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    school, _ = new_school("beech", "Beech Primary School")
    sample = generate_school(seed=65, name="Beech Primary School", pupils=112, staff=12)
    export = write_spreadsheet(sample, tmp_path / "beech.csv")
    apply_plan(school, preview(school, [str(p) for p in export]).plan)
    teacher = next(s for s in sample.staff if s.title == "Teacher" and s.email)
    own_class = teacher.classes[0]  # their registration class, then any subject groups
    create_login(school, teacher.email, PASSWORD, role="teacher")
    theirs = [
        p for p in sample.pupils if p.reg_group in teacher.classes or set(p.groups) & set(teacher.classes)
    ]
    other = SchoolClass.objects.filter(school=school, kind="registration").exclude(name=own_class).first()
    assert other is not None and theirs

    page.goto(f"{live_server.url}/beech/")
    page.get_by_label("Email address").fill(teacher.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/beech/manage/")
    expect(h1(page)).to_have_text("Manage Users")
    expect(page.get_by_text("You see the pupils in the classes and groups you teach.")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Import/Sync: MIS Sync Wizard")).to_have_count(0)
    expect(nav.get_by_role("link", name="Sync history")).to_have_count(0)
    expect(page.get_by_role("link", name="Add a user")).to_have_count(0)
    listed = rowheaders(page, page.get_by_role("table", name=re.compile("^Pupils")))
    assert sorted(listed) == sorted(names(theirs))
    assert len(listed) < len(sample.pupils)
    check_step(page, "manage-teacher-pupils")

    # their own class opens; the class list holds only what they teach
    page.get_by_role("navigation", name="Manage Users").get_by_role(
        "link", name=re.compile("^Classes")
    ).click()
    classes = rowheaders(page, page.get_by_role("table", name="Classes"))
    assert classes == [own_class]
    page.get_by_role("link", name=re.compile(rf"pupils? in {re.escape(own_class)}$")).click()
    expect(h1(page)).to_have_text(own_class)
    in_class = [p for p in sample.pupils if p.reg_group == own_class]
    assert sorted(rowheaders(page)) == sorted(names(in_class))
    expect(page.get_by_role("link", name=re.compile("^Rename"))).to_have_count(0)

    # another class's page and the wizard do not exist for a teacher
    for url in (
        f"/beech/manage/classes/{other.pk}/",
        f"/beech/manage/classes/{other.pk}/rename/",
        "/beech/manage/sync/",
        "/beech/manage/sync/history/",
    ):
        response = page.goto(live_server.url + url)
        assert response is not None and response.status == 404, url
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        for pupil in [p for p in sample.pupils if p.reg_group == other.name][:5]:
            expect(page.get_by_text(f"{pupil.forename} {pupil.surname}")).to_have_count(0)
    assert Account.objects.filter(school=school, role="pupil").count() == len(sample.pupils)
