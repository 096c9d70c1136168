"""Staff activation: from the captured email to the first sign-in; single use, expiry and resending."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from missync.accounts.models import Account, SyncRun
from missync.cli import Command
from missync.credentials.activation import (
    ActivationTokenGenerator,
    email_destination,
    send_activation_emails,
    staff_needing_activation,
)
from missync.credentials.cli import COMMANDS
from missync.credentials.mail_settings import email_settings
from missync.credentials.models import CredentialEvent, StaffActivation
from missync.wizard.models import SchoolMembership

from .conftest import SyncedSchool

NEW_PASSWORD = "a-long-new-password-for-school"
LINK = re.compile(r"http://school\.test(/oak/activate/\S+/)")


def activation_path(body: str) -> str:
    """The path of the activation link in an email sent with base http://school.test."""
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def test_new_staff_of_a_run_get_one_email_each(oak: SyncedSchool) -> None:
    run = SyncRun.objects.get(school=oak.school)
    expected = staff_needing_activation(oak.school, run)
    assert expected and oak.teacher.pk not in {a.pk for a in expected}  # already signed in: no email
    assert send_activation_emails(oak.school, run) == len(expected) == len(mail.outbox)
    assert {m.to[0] for m in mail.outbox} == {a.email for a in expected}
    assert StaffActivation.objects.filter(account__in=expected, sent_count=1).count() == len(expected)
    assert CredentialEvent.objects.filter(school=oak.school, action="activation_sent").count() == len(
        expected
    )
    assert email_destination() == "kept in memory (tests)"


def test_activation_from_the_email_to_the_first_sign_in(oak: SyncedSchool) -> None:
    run = SyncRun.objects.get(school=oak.school)
    send_activation_emails(oak.school, run, base="http://school.test")
    staff = staff_needing_activation(oak.school, run)[0]
    message = next(m for m in mail.outbox if m.to == [staff.email])
    assert "http://school.test/oak/" in message.body and staff.forename in message.body
    path = activation_path(message.body)
    client = Client()
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].endswith("/set-password/")
    form = client.get(response["Location"])
    assert form.status_code == 200 and b"Set your password" in form.content
    weak = client.post(response["Location"], {"password1": "short", "password2": "short"})
    assert weak.status_code == 200 and b"too short" in weak.content
    done = client.post(response["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"].startswith("/oak/?email=")
    membership = SchoolMembership.objects.get(account=staff)
    assert membership.role == "teacher" and membership.user.username == f"oak/{staff.email.lower()}"
    assert membership.user.password.startswith("pbkdf2_") and NEW_PASSWORD not in membership.user.password
    # the first sign-in, with the new password
    first = Client().post("/oak/", {"email": staff.email, "password": NEW_PASSWORD})
    assert first.status_code == 302 and first["Location"] == "/oak/manage/"
    # single use: the link is dead now
    assert Client().get(path).status_code == 400
    assert StaffActivation.objects.get(account=staff).activated_at is not None


def test_the_link_expires(oak: SyncedSchool, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.MISSYNC_ACTIVATION_DAYS = 7
    run = SyncRun.objects.get(school=oak.school)
    send_activation_emails(oak.school, run, base="http://school.test")
    staff = staff_needing_activation(oak.school, run)[0]
    path = activation_path(next(m for m in mail.outbox if m.to == [staff.email]).body)
    later = datetime.now() + timedelta(days=6)
    monkeypatch.setattr(ActivationTokenGenerator, "_now", lambda self: later)
    assert Client().get(path).status_code == 302
    too_late = datetime.now() + timedelta(days=8)
    monkeypatch.setattr(ActivationTokenGenerator, "_now", lambda self: too_late)
    page = Client().get(path)
    assert page.status_code == 400 and b"expired or has already been used" in page.content


def test_a_forged_or_other_school_link_does_not_work(oak: SyncedSchool, elm: SyncedSchool) -> None:
    run = SyncRun.objects.get(school=oak.school)
    send_activation_emails(oak.school, run, base="http://school.test")
    path = activation_path(mail.outbox[0].body)
    assert Client().get(path.replace("/oak/", "/elm/")).status_code == 400
    assert Client().get(path[:-3] + "xx/").status_code == 400
    # set-password without having opened the link
    uid = path.split("/")[3]
    assert Client().get(f"/oak/activate/{uid}/set-password/").status_code == 400


def test_an_admin_resends_and_teachers_cannot(oak: SyncedSchool, admin: Client, teacher: Client) -> None:
    page = admin.get("/oak/manage/staff/activation/")
    assert page.status_code == 200 and b"Send activation email" in page.content
    staff = (
        Account.objects.filter(school=oak.school, role="staff", status="active")
        .exclude(email__iexact=oak.teacher_email)
        .exclude(email="")
        .first()
    )
    assert staff is not None
    assert admin.post(f"/oak/manage/staff/{staff.pk}/activation/").status_code == 302
    assert admin.post(f"/oak/manage/staff/{staff.pk}/activation/").status_code == 302
    assert [m.to for m in mail.outbox] == [[staff.email], [staff.email]]
    assert StaffActivation.objects.get(account=staff).sent_count == 2
    assert b"Resend activation email" in admin.get("/oak/manage/staff/activation/").content
    assert teacher.get("/oak/manage/staff/activation/").status_code == 404
    assert teacher.post(f"/oak/manage/staff/{staff.pk}/activation/").status_code == 404
    # a member of staff who can sign in already gets nothing
    assert admin.post(f"/oak/manage/staff/{oak.teacher.pk}/activation/").status_code == 302
    assert len(mail.outbox) == 2


def test_the_activation_command_says_where_emails_went(oak: SyncedSchool) -> None:
    group = Command("missync", commands={command.name: command for command in COMMANDS})
    result = CliRunner().invoke(group, ["activation-emails", "oak"])
    assert result.exit_code == 0, result.output
    assert "activation email(s): kept in memory (tests)" in result.output and len(mail.outbox) > 0
    again = CliRunner().invoke(group, ["activation-emails", "oak"])
    assert "Sent 0" not in again.output  # not yet activated: sent again
    assert get_user_model().objects.filter(username__startswith="oak/").count() == 2


def test_email_settings_from_the_environment(tmp_path: Path) -> None:
    files = email_settings({}, tmp_path)
    assert files["EMAIL_BACKEND"].endswith("filebased.EmailBackend")
    assert files["EMAIL_FILE_PATH"] == str(tmp_path / "emails")
    smtp = email_settings(
        {"MISSYNC_EMAIL_URL": "smtp://mailer:s%40cret@mail.example.org:587?tls=1"}, tmp_path
    )
    assert smtp["EMAIL_HOST"] == "mail.example.org" and smtp["EMAIL_PORT"] == 587
    assert smtp["EMAIL_HOST_USER"] == "mailer" and smtp["EMAIL_HOST_PASSWORD"] == "s@cret"
    assert smtp["EMAIL_USE_TLS"] is True and smtp["EMAIL_USE_SSL"] is False
    assert email_settings({"MISSYNC_EMAIL_URL": "smtps://mail.example.org"}, tmp_path)["EMAIL_PORT"] == 465
    assert email_settings({"EMAIL_HOST": "relay.example.org"}, tmp_path)["EMAIL_BACKEND"].endswith(
        "smtp.EmailBackend"
    )
    assert email_settings({"MISSYNC_EMAIL_URL": "console:"}, tmp_path)["EMAIL_BACKEND"].endswith(
        "console.EmailBackend"
    )
    with pytest.raises(ValueError):
        email_settings({"MISSYNC_EMAIL_URL": "ftp://x"}, tmp_path)


def test_activation_links_the_sign_in_to_the_account_the_link_was_for(oak: SyncedSchool) -> None:
    """A role mailbox passed from a teacher who left to a new one: the new teacher gets their own classes."""
    run = SyncRun.objects.get(school=oak.school)
    needing = sorted(staff_needing_activation(oak.school, run), key=lambda a: a.pk)
    leaver, staff = needing[0], needing[-1]  # the leaver's account is the older one
    Account.objects.filter(pk=leaver.pk).update(status="archived", email=staff.email)
    send_activation_emails(oak.school, run, base="http://school.test")
    message = next(m for m in mail.outbox if m.to == [staff.email])
    client = Client()
    response = client.get(activation_path(message.body))
    client.post(response["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    membership = SchoolMembership.objects.get(user__username=f"oak/{staff.email.lower()}")
    assert membership.account_id == staff.pk != leaver.pk
