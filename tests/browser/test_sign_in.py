"""The first browser test: a school admin signs in in real Chromium and reaches Manage Users."""

from __future__ import annotations

from typing import Any

import pytest

from missync.accounts.models import School
from missync.wizard.logins import create_login

from .conftest import axe_check, screenshot

PASSWORD = "correct-horse-battery-staple"


@pytest.mark.django_db(transaction=True)
def test_admin_signs_in(live_server: Any, page: Any) -> None:
    school = School.objects.create(slug="birch", name="Birch Primary School")
    create_login(school, "head@birch.example.org", PASSWORD, role="admin", name="Head")
    page.goto(f"{live_server.url}/birch/")
    axe_check(page, "sign-in")
    page.get_by_label("Email address").fill("head@birch.example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/birch/manage/")
    assert page.get_by_role("heading", level=1).inner_text() == "Manage Users"
    screenshot(page, "manage-users-empty")
