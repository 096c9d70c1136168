"""Failed sign-ins are limited per account and per address (django-axes); a teacher clears a lockout."""

from __future__ import annotations

from typing import Any

from django.test import Client

from missync.accounts.models import Account
from missync.credentials.lockout import is_pupil_locked
from missync.credentials.models import CredentialEvent
from missync.credentials.pupils import find_pupil
from missync.credentials.signin import WRONG

from .conftest import PASSWORD, SyncedSchool, pupils_with, secret_of, taught_class

LIMIT = 5  # AXES_FAILURE_LIMIT


def attempt(client: Client, username: str, password: str, address: str = "127.0.0.1") -> int:
    data = {"stage": "password", "username": username, "password": password}
    return client.post("/oak/", data, REMOTE_ADDR=address).status_code


def test_an_account_locks_after_five_wrong_passwords_and_a_teacher_clears_it(
    oak: SyncedSchool, teacher: Client
) -> None:
    mine = taught_class(oak)
    pupil = Account.objects.filter(registration_class=mine, status="active").select_related("school").first()
    assert pupil is not None
    password = secret_of(pupil)
    client = Client()
    codes = [attempt(client, pupil.username, "Wrong11") for _ in range(LIMIT)]
    assert codes == [200] * (LIMIT - 1) + [429]
    locked = client.post("/oak/", {"stage": "password", "username": pupil.username, "password": password})
    assert locked.status_code == 429 and b"Too many wrong tries" in locked.content
    assert client.get("/oak/me/").status_code == 302
    assert is_pupil_locked(pupil)
    # another pupil on the same address is not affected
    other = next(p for p in pupils_with(oak.school, picture=False) if p.pk != pupil.pk)
    assert attempt(Client(), other.username, secret_of(other)) == 302

    page = teacher.get(f"/oak/manage/pupils/{pupil.pk}/login/")
    assert page.status_code == 200 and b"Locked" in page.content and b"Clear lockout" in page.content
    assert teacher.post(f"/oak/manage/pupils/{pupil.pk}/unlock/").status_code == 302
    assert not is_pupil_locked(pupil)
    assert b"Not locked" in teacher.get(f"/oak/manage/pupils/{pupil.pk}/login/").content
    assert CredentialEvent.objects.filter(school=oak.school, action="unlocked", account=pupil).exists()
    assert attempt(client, pupil.username, password) == 302


def test_unknown_usernames_lock_out_the_same_way(oak: SyncedSchool) -> None:
    client = Client()
    codes = [attempt(client, "NoSuchPupil", "Wrong11") for _ in range(LIMIT)]
    assert codes[-1] == 429
    real = pupils_with(oak.school, picture=False)[0]
    other = Client()
    for _ in range(LIMIT - 1):
        assert (
            WRONG.encode()
            in other.post("/oak/", {"stage": "password", "username": real.username, "password": "x"}).content
        )
    assert attempt(other, real.username, "x") == 429


def test_a_picture_pin_account_locks_too(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=True)[0]
    wrong = "".join(str((int(d) + 1) % 10) for d in secret_of(pupil))
    client = Client()
    for _ in range(LIMIT):
        response = client.post(
            "/oak/", {"stage": "picture", "username": pupil.username, "pin": wrong, "go": "1"}
        )
    assert response.status_code == 429 and b"Picture PIN pad" in response.content


def test_one_address_is_limited_across_accounts(oak: SyncedSchool, settings: Any) -> None:
    settings.MISSYNC_ADDRESS_FAILURE_LIMIT = 8
    pupils = pupils_with(oak.school, picture=False)
    client = Client()
    for pupil in pupils[:8]:
        attempt(client, pupil.username, "Wrong11", address="203.0.113.9")
    last = pupils[9]
    assert attempt(client, last.username, secret_of(last), address="203.0.113.9") == 429
    assert attempt(Client(), last.username, secret_of(last), address="203.0.113.10") == 302


def test_staff_sign_ins_lock_out_with_the_same_words_for_unknown_emails(oak: SyncedSchool) -> None:
    client = Client()
    codes = [
        client.post("/oak/", {"email": oak.admin_email, "password": "nope"}).status_code for _ in range(LIMIT)
    ]
    assert codes == [200] * (LIMIT - 1) + [429]
    locked = client.post("/oak/", {"email": oak.admin_email, "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    for _ in range(LIMIT):
        response = client.post("/oak/", {"email": "nobody@example.org", "password": "nope"})
    assert response.status_code == 429 and b"Too many failed sign-ins" in response.content


def test_teachers_cannot_clear_other_classes(oak: SyncedSchool, teacher: Client) -> None:
    mine = taught_class(oak)
    taught = set(oak.teacher.memberships.values_list("school_class_id", flat=True))
    stranger = (
        Account.objects.filter(school=oak.school, role="pupil", status="active")
        .exclude(registration_class_id__in=taught)
        .exclude(memberships__school_class_id__in=taught)
        .first()
    )
    assert stranger is not None and stranger.registration_class_id != mine.pk
    assert teacher.post(f"/oak/manage/pupils/{stranger.pk}/unlock/").status_code == 404


def test_unicode_lookalikes_of_a_username_are_nobody(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=False)[0]
    assert find_pupil(oak.school, pupil.username.upper()) == pupil
    lookalike = pupil.username.lower().replace("s", "\u017f").replace("i", "\u0131").replace("k", "\u212a")
    if lookalike == pupil.username.lower():
        lookalike = pupil.username + "\u0130"
    assert find_pupil(oak.school, lookalike) is None
