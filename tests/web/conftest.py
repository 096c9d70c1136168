"""Fixtures for the web pages: a synced sample school with an admin and a teacher who can sign in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from missync.accounts.apply import apply_plan
from missync.accounts.models import Account, School
from missync.accounts.services import preview
from missync.sample import SampleSchool, generate_school, write_spreadsheet
from missync.wizard.logins import create_login

PASSWORD = "correct-horse-battery-staple"


@dataclass
class SyncedSchool:
    school: School
    sample: SampleSchool
    export: list[str]
    admin_email: str
    teacher_email: str
    teacher: Account


def synced_school(slug: str, seed: int, folder: Path) -> SyncedSchool:
    school = School.objects.create(slug=slug, name=f"{slug.title()} Primary School")
    sample = generate_school(seed=seed)
    export = [str(p) for p in write_spreadsheet(sample, folder / f"{slug}.csv")]
    apply_plan(school, preview(school, export).plan)
    admin_email = f"head@{slug}.example.org"
    create_login(school, admin_email, PASSWORD, role="admin", name="Head Teacher")
    teacher = (
        Account.objects.filter(school=school, role="staff", memberships__school_class__kind="registration")
        .order_by("id")
        .first()
    )
    assert teacher is not None and teacher.email
    create_login(school, teacher.email, PASSWORD, role="teacher")
    return SyncedSchool(school, sample, export, admin_email, teacher.email, teacher)


@pytest.fixture
def oak(db: None, tmp_path: Path) -> SyncedSchool:
    return synced_school("oak", 31, tmp_path)


@pytest.fixture
def elm(db: None, tmp_path: Path) -> SyncedSchool:
    return synced_school("elm", 32, tmp_path)


def signed_in(school: SyncedSchool, email: str) -> Client:
    client = Client()
    response = client.post(f"/{school.school.slug}/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def admin(oak: SyncedSchool) -> Client:
    return signed_in(oak, oak.admin_email)


@pytest.fixture
def teacher(oak: SyncedSchool) -> Client:
    return signed_in(oak, oak.teacher_email)
