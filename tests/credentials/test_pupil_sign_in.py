"""Pupils sign in on the school's page with plain form posts: password, picture PIN (tapped or typed), QR."""

from __future__ import annotations

import re

from django.test import Client

from missync.accounts.models import Account, School
from missync.credentials.changes import reset_password
from missync.credentials.pupils import (
    SESSION_KEY,
    decoy_pin_length,
    ensure_state,
    qr_token,
    school_pin_lengths,
)
from missync.credentials.signin import WRONG

from .conftest import SyncedSchool, pupils_with, secret_of, signed_in


def start(client: Client, username: str) -> bytes:
    response = client.post("/oak/", {"stage": "username", "username": username})
    assert response.status_code == 200
    return response.content


def test_the_page_offers_pupils_and_staff_their_own_forms(oak: SyncedSchool) -> None:
    page = Client().get("/oak/")
    assert b"Your username" in page.content and b"Email address" in page.content
    assert page.content.count(b'type="submit"') == 2  # "Next" for pupils, "Sign in" for staff


def test_a_pupil_signs_in_with_a_password(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=False)[0]
    client = Client()
    step = start(client, pupil.username.lower())  # usernames are not case-sensitive
    assert b'name="password"' in step and b"Picture PIN pad" not in step
    response = client.post(
        "/oak/",
        {"stage": "password", "username": pupil.username, "password": f" {secret_of(pupil).lower()} "},
    )
    assert response.status_code == 302 and response["Location"] == "/oak/me/"
    home = client.get("/oak/me/")
    assert home.status_code == 200
    assert f"{pupil.forename} {pupil.surname}".encode() in home.content
    assert pupil.registration_class is not None and pupil.registration_class.name.encode() in home.content
    # a pupil is never a staff user
    assert client.get("/oak/manage/").status_code == 302
    assert client.post("/oak/me/sign-out/").status_code == 302
    assert client.get("/oak/me/").status_code == 302


def test_a_pupil_taps_their_picture_pin_without_javascript(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=True)[0]
    pin = secret_of(pupil)
    client = Client()
    step = start(client, pupil.username)
    assert b"Picture PIN pad" in step
    for digit, animal in enumerate(
        ("Cat", "Dog", "Fish", "Owl", "Frog", "Duck", "Bee", "Lion", "Pig", "Bear")
    ):
        assert f'aria-label="{animal}, {digit}"'.encode() in step
    entered = ""
    for digit in pin:
        response = client.post(
            "/oak/", {"stage": "picture", "username": pupil.username, "pin": entered, "digit": digit}
        )
        entered += digit
        if len(entered) < len(pin):
            assert response.status_code == 200
            assert f"{len(entered)} of {len(pin)} pictures chosen".encode() in response.content
    assert response.status_code == 302 and response["Location"] == "/oak/me/"
    assert pupil.forename.encode() in client.get("/oak/me/").content


def test_a_pupil_types_their_picture_pin_and_can_clear_it(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=True)[1]
    pin = secret_of(pupil)
    client = Client()
    cleared = client.post(
        "/oak/", {"stage": "picture", "username": pupil.username, "pin": pin[:1], "clear": "1"}
    )
    assert b"0 of" in cleared.content
    response = client.post("/oak/", {"stage": "picture", "username": pupil.username, "pin": pin, "go": "1"})
    assert response.status_code == 302


def unknown_username(school: School, pin_length: int | None) -> str:
    """A username no pupil has whose decoy form is a password box (None) or a pad of `pin_length`."""
    return next(
        name
        for name in (f"NoSuchPupil{n}" for n in range(200))
        if decoy_pin_length(school, name) == pin_length
    )


def test_unknown_usernames_look_exactly_like_real_ones(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=False)[0]
    client = Client()
    real = start(client, pupil.username)
    nobody = unknown_username(oak.school, None)
    unknown = start(client, nobody)
    assert _same_page(real, pupil.username) == _same_page(unknown, nobody)
    # a picture-PIN pupil's pad is no give-away: some unknown usernames get a pad too, every time
    picture = next(p for p in pupils_with(oak.school, picture=True) if len(secret_of(p)) == 4)
    padded = unknown_username(oak.school, 4)
    assert _same_page(start(client, picture.username), picture.username) == _same_page(
        start(client, padded), padded
    )
    assert _same_page(start(client, padded), padded) == _same_page(start(client, padded), padded)
    wrong = client.post("/oak/", {"stage": "password", "username": pupil.username, "password": "Nope99"})
    missing = client.post("/oak/", {"stage": "password", "username": nobody, "password": "Nope99"})
    assert wrong.status_code == missing.status_code == 200
    assert wrong.content.count(WRONG.encode()) == missing.content.count(WRONG.encode()) == 1
    assert client.get("/oak/me/").status_code == 302


def _same_page(content: bytes, username: str) -> bytes:
    """The page with its CSRF token and the typed username taken out."""
    content = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)
    content = re.sub(rb'"X-CSRFToken": "[^"]+"', b"", content)
    return content.replace(username.encode(), b"NAME")


def test_archived_pupils_and_staff_usernames_cannot_sign_in(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=False)[0]
    password = secret_of(pupil)
    Account.objects.filter(pk=pupil.pk).update(status="archived")
    client = Client()
    response = client.post("/oak/", {"stage": "password", "username": pupil.username, "password": password})
    assert response.status_code == 200 and WRONG.encode() in response.content


def test_another_schools_pupil_cannot_sign_in_here(oak: SyncedSchool, elm: SyncedSchool) -> None:
    oak_usernames = {
        u.lower() for u in Account.objects.filter(school=oak.school).values_list("username", flat=True)
    }
    pupil = next(p for p in pupils_with(elm.school, picture=False) if p.username.lower() not in oak_usernames)
    client = Client()
    response = client.post(
        "/oak/", {"stage": "password", "username": pupil.username, "password": secret_of(pupil)}
    )
    assert response.status_code == 200 and WRONG.encode() in response.content
    assert (
        client.post(
            "/elm/", {"stage": "password", "username": pupil.username, "password": secret_of(pupil)}
        ).status_code
        == 302
    )


def test_a_qr_code_signs_in_until_the_password_is_reset(oak: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=True)[0]
    token = qr_token(pupil, ensure_state(pupil))
    client = Client()
    response = client.get(f"/oak/qr/{token}/")
    assert response.status_code == 302 and response["Location"] == "/oak/me/"
    assert client.get("/oak/me/").status_code == 200
    reset_password(pupil, actor="test")
    # the old code no longer works, and the session it started has ended
    assert client.get("/oak/me/").status_code == 302
    assert Client().get(f"/oak/qr/{token}/").status_code == 400
    fresh = qr_token(pupil, ensure_state(pupil))
    assert fresh != token and Client().get(f"/oak/qr/{fresh}/").status_code == 302


def test_qr_codes_are_bound_to_their_school_and_signature(oak: SyncedSchool, elm: SyncedSchool) -> None:
    pupil = pupils_with(oak.school, picture=False)[0]
    token = qr_token(pupil, ensure_state(pupil))
    assert Client().get(f"/elm/qr/{token}/").status_code == 400
    assert Client().get(f"/oak/qr/{token[:-2]}xx/").status_code == 400
    assert Client().get(f"/oak/qr/{pupil.pk}.forged/").status_code == 400


def test_a_credential_rewritten_elsewhere_revokes_the_code(oak: SyncedSchool) -> None:
    from missync.accounts.crypto import encrypt_credential

    pupil = pupils_with(oak.school, picture=False)[0]
    token = qr_token(pupil, ensure_state(pupil))
    Account.objects.filter(pk=pupil.pk).update(credential=encrypt_credential("Cat11"))
    assert Client().get(f"/oak/qr/{token}/").status_code == 400


def test_staff_and_pupil_sessions_do_not_mix(oak: SyncedSchool) -> None:
    client = signed_in(oak, oak.admin_email)
    pupil = pupils_with(oak.school, picture=False)[0]
    response = client.post(
        "/oak/", {"stage": "password", "username": pupil.username, "password": secret_of(pupil)}
    )
    assert response.status_code == 302
    assert client.get("/oak/manage/").status_code == 302  # the admin was signed out on this browser
    client.post("/oak/", {"email": oak.admin_email, "password": "correct-horse-battery-staple"})
    assert SESSION_KEY not in client.session
    assert client.get("/oak/me/").status_code == 302


def test_unknown_usernames_only_get_forms_the_schools_pupils_get(oak: SyncedSchool) -> None:
    """A school whose pupils all type passwords never shows a pad to an unknown username."""
    assert set(school_pin_lengths(oak.school)) == {None, 2, 4}  # a primary: Reception to Year 6
    Account.objects.filter(school=oak.school, role="pupil").update(year_group="Year 5")
    assert school_pin_lengths(oak.school) == [None]
    assert {decoy_pin_length(oak.school, f"NoSuchPupil{n}") for n in range(50)} == {None}
