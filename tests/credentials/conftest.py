"""Fixtures for logins: the synced sample schools of the web tests, and helpers to find their pupils."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.test import Client

from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SchoolClass
from tests.web.conftest import PASSWORD, SyncedSchool, admin, elm, oak, signed_in, teacher

__all__ = ["PASSWORD", "SyncedSchool", "admin", "elm", "oak", "signed_in", "teacher"]

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "cards"


def secret_of(account: Account) -> str:
    account.refresh_from_db(fields=["credential"])
    secret = decrypt_credential(account.credential)
    assert secret
    return secret


def pupils_with(school: School, *, picture: bool) -> list[Account]:
    """Active pupils whose credential is (or is not) a picture PIN."""
    pupils = Account.objects.filter(school=school, role="pupil", status="active").select_related(
        "registration_class"
    )
    return [p for p in pupils.order_by("id") if secret_of(p).isdigit() == picture]


def taught_class(synced: SyncedSchool) -> SchoolClass:
    """The registration class the fixture's teacher teaches."""
    found = (
        SchoolClass.objects.filter(memberships__account=synced.teacher, kind="registration")
        .order_by("id")
        .first()
    )
    assert found is not None
    return found


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def pupil_client() -> Client:
    return Client()
