"""Logins in real Chromium: pupils sign in with the picture pad, a typed password and a card's QR code; a
new teacher activates from the captured email; a lockout is cleared by a teacher; a class's cards download.

Each test syncs a small made-up school (one class a year) into the live server's database first.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from missync.accounts.apply import apply_plan
from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SyncRun
from missync.accounts.services import preview
from missync.core.passwords import PICTURE_PIN_ANIMALS
from missync.credentials.activation import send_activation_emails, staff_needing_activation
from missync.credentials.pupils import decoy_pin_length, ensure_state, qr_token
from missync.credentials.signin import WRONG
from missync.sample import SampleSchool, generate_school, write_spreadsheet
from missync.wizard.logins import create_login

from .conftest import axe_check, screenshot
from .helpers import PASSWORD, h1, new_school, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 5  # AXES_FAILURE_LIMIT: wrong tries before an account is locked
NEW_PASSWORD = "plum-orchard-lantern-2048"
LOCKED = "Too many wrong tries. Ask your teacher to unlock your sign-in"


@dataclass
class Synced:
    school: School
    sample: SampleSchool
    run: SyncRun
    admin_email: str

    @property
    def slug(self) -> str:
        return self.school.slug


def synced(slug: str, seed: int, folder: Path) -> Synced:
    """A school with an admin, synced from a made-up export: one class a year, about ten pupils each."""
    name = f"{slug.title()} Primary School"
    school, admin_email = new_school(slug, name)
    sample = generate_school(seed=seed, name=name, forms_per_year=1, pupils_per_class=10, staff=10)
    export = write_spreadsheet(sample, folder / f"{slug}.csv")
    run = apply_plan(school, preview(school, [str(p) for p in export]).plan)
    return Synced(school, sample, run, admin_email)


def secret_of(pupil: Account) -> str:
    pupil.refresh_from_db(fields=["credential"])
    secret = decrypt_credential(pupil.credential)
    assert secret
    return secret


def pupil_in(synced_school: Synced, year: str, *, picture: bool) -> Account:
    """The first active pupil of `year` whose credential is (or is not) a picture PIN."""
    pupils = Account.objects.filter(
        school=synced_school.school, role="pupil", status="active", year_group=year
    ).select_related("registration_class")
    found = next((p for p in pupils.order_by("id") if secret_of(p).isdigit() == picture), None)
    assert found is not None and found.registration_class is not None
    return found


def class_teacher(synced_school: Synced, pupil: Account) -> str:
    """The email of the teacher whose registration class `pupil` is in, now able to sign in."""
    assert pupil.registration_class is not None
    email = next(
        s.email
        for s in synced_school.sample.staff
        if s.title == "Teacher" and s.classes[:1] == [pupil.registration_class.name]
    )
    create_login(synced_school.school, email, PASSWORD, role="teacher")
    return email


@pytest.fixture
def second_page(browser: Any) -> Iterator[Any]:
    """Another browser (its own cookies) at the same tablet width: the teacher's, beside the pupil's."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, accept_downloads=True)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def main_text(page: Any, *hide: str) -> str:
    """What the page's main region says, with the given words (a username, a message) taken out."""
    text = page.get_by_role("main").inner_text()
    for words in hide:
        text = text.replace(words, "…")
    return text


def submit(page: Any, button: str) -> int:
    """Press a sign-in form's button and return the HTTP status of the POST it sends."""
    with page.expect_navigation(), page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name=button, exact=True).click()
    return int(response.value.status)


def enter_username(page: Any, base: str, slug: str, username: str) -> None:
    page.goto(f"{base}/{slug}/")
    page.get_by_label("Your username").fill(username)
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", level=2, name=f"Hello, {username}")).to_be_visible()


def type_password(page: Any, password: str) -> int:
    page.get_by_label("Your password").fill(password)
    return submit(page, "Sign in")


def expect_pupil_home(page: Any, base: str, slug: str, pupil: Account) -> None:
    """The pupil's own page: their name and class, proving the account works."""
    page.wait_for_url(f"{base}/{slug}/me/")
    expect(h1(page)).to_have_text(f"Hello, {pupil.forename}!")
    assert pupil.registration_class is not None
    facts = page.get_by_role("definition").all_inner_texts()
    assert f"{pupil.forename} {pupil.surname}" in facts and pupil.registration_class.name in facts
    assert pupil.username in facts


def test_a_pupil_signs_in_with_the_picture_pad(live_server: Any, page: Any, tmp_path: Path) -> None:
    oak = synced("rowan", 71, tmp_path)
    pupil = pupil_in(oak, "Year 1", picture=True)
    pin = secret_of(pupil)
    assert re.fullmatch(r"[0-9]{4}", pin)
    enter_username(page, live_server.url, oak.slug, pupil.username)
    pad = page.get_by_role("group", name="Picture PIN pad")
    expect(pad.get_by_role("button")).to_have_count(10)
    for digit, animal in enumerate(PICTURE_PIN_ANIMALS):
        expect(pad.get_by_role("button", name=f"{animal}, {digit}", exact=True)).to_be_visible()
    expect(page.get_by_label("Your password")).to_have_count(0)
    screenshot(page, "pupil-picture-pad")
    axe_check(page, "pupil-picture-pad")

    for count, digit in enumerate(pin[:-1], start=1):
        pad.get_by_role("button", name=f"{PICTURE_PIN_ANIMALS[int(digit)]}, {digit}", exact=True).click()
        expect(page.get_by_text(f"{count} of {len(pin)} pictures chosen")).to_be_attached()
    screenshot(page, "pupil-picture-pad-3-of-4")
    # the last picture sends the form by itself
    last = pin[-1]
    pad.get_by_role("button", name=f"{PICTURE_PIN_ANIMALS[int(last)]}, {last}", exact=True).click()
    expect_pupil_home(page, live_server.url, oak.slug, pupil)
    screenshot(page, "pupil-home")
    axe_check(page, "pupil-home")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/{oak.slug}/")
    page.goto(f"{live_server.url}/{oak.slug}/me/")
    page.wait_for_url(f"{live_server.url}/{oak.slug}/")  # signed out: back to the sign-in page


def test_a_pupil_signs_in_with_a_typed_password(live_server: Any, page: Any, tmp_path: Path) -> None:
    oak = synced("rowan", 72, tmp_path)
    pupil = pupil_in(oak, "Year 4", picture=False)
    password = secret_of(pupil)
    assert re.fullmatch(r"[A-Z][a-z]+[0-9]{2}", password)  # the animals format: Dog33
    enter_username(page, live_server.url, oak.slug, pupil.username.lower())  # not case-sensitive
    expect(page.get_by_role("group", name="Picture PIN pad")).to_have_count(0)
    screenshot(page, "pupil-password")
    assert type_password(page, password) == 302
    expect_pupil_home(page, live_server.url, oak.slug, pupil)


def test_a_qr_code_signs_in_until_the_password_is_reset(
    live_server: Any, page: Any, second_page: Any, tmp_path: Path
) -> None:
    oak = synced("rowan", 73, tmp_path)
    pupil = pupil_in(oak, "Year 2", picture=True)
    old_pin = secret_of(pupil)
    # the URL a login card's QR code holds (as missync.credentials.printing makes it)
    qr_url = live_server.url + reverse("pupil-qr", args=[oak.slug, qr_token(pupil, ensure_state(pupil))])
    page.goto(qr_url)
    expect_pupil_home(page, live_server.url, oak.slug, pupil)

    # the admin gives the pupil a new password on the pupil's login page
    admin = second_page
    sign_in(admin, live_server.url, oak.slug, oak.admin_email)
    admin.goto(f"{live_server.url}/{oak.slug}/manage/pupils/{pupil.pk}/login/")
    expect(h1(admin)).to_have_text(f"Login for {pupil.forename} {pupil.surname}")
    expect(admin.get_by_label("New password format")).to_have_value("picture-pin")
    admin.get_by_role("button", name="Reset password").click()
    expect(admin.get_by_text("The old login card and its QR code no longer work")).to_be_visible()
    new_pin = secret_of(pupil)
    assert new_pin != old_pin and new_pin.isdigit()
    expect(admin.get_by_role("list", name="Picture PIN")).to_be_visible()  # the new PIN, shown at once

    # the pupil's session from the old card has ended, and the old code is refused with a clear message
    page.reload()
    page.wait_for_url(f"{live_server.url}/{oak.slug}/")
    response = page.goto(qr_url)
    assert response is not None and response.status == 400
    expect(h1(page)).to_have_text("This card does not work any more")
    expect(page.get_by_role("alert")).to_have_text(
        "This sign-in code is not valid. Your teacher may have given you a new card."
    )
    screenshot(page, "pupil-qr-revoked")
    axe_check(page, "pupil-qr-revoked")
    # the new card's code works
    page.goto(live_server.url + reverse("pupil-qr", args=[oak.slug, qr_token(pupil, ensure_state(pupil))]))
    expect_pupil_home(page, live_server.url, oak.slug, pupil)


def test_a_new_teacher_activates_from_the_email_and_signs_in(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    oak = synced("rowan", 74, tmp_path)
    newcomers = staff_needing_activation(oak.school, oak.run)
    assert newcomers
    assert send_activation_emails(oak.school, oak.run, base=live_server.url) == len(newcomers)
    teacher = next(a for a in newcomers if a.memberships.filter(school_class__kind="registration").exists())
    message = next(m for m in mail.outbox if m.to == [teacher.email])
    assert message.subject == f"Set up your sign-in for {oak.school.name}"
    found = re.search(rf"{re.escape(live_server.url)}/{oak.slug}/activate/\S+/", message.body)
    assert found, message.body
    link = found.group(0)

    page.goto(link)
    page.wait_for_url(re.compile(r"/activate/[^/]+/set-password/$"))  # the token left the address bar
    expect(h1(page)).to_have_text("Set your password")
    expect(page.get_by_text(teacher.email or "-", exact=True)).to_be_visible()
    screenshot(page, "staff-set-password")
    axe_check(page, "staff-set-password")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("This password is too short", exact=False)).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()

    # the sign-in page, with the email filled in: the first sign-in with the new password
    page.wait_for_url(re.compile(rf"/{oak.slug}/\?email="))
    expect(page.get_by_role("status")).to_contain_text("Your password is set.")
    expect(page.get_by_label("Email address")).to_have_value(teacher.email or "-")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/{oak.slug}/manage/")
    expect(h1(page)).to_have_text("Manage Users")
    screenshot(page, "staff-first-sign-in")

    # the link works once
    response = page.goto(link)
    assert response is not None and response.status == 400
    expect(h1(page)).to_have_text("This link does not work")
    expect(page.get_by_role("alert")).to_have_text(
        "The activation link has expired or has already been used."
    )
    screenshot(page, "staff-activation-link-used")


def test_a_lockout_and_its_clearing_by_the_class_teacher(
    live_server: Any, page: Any, second_page: Any, tmp_path: Path
) -> None:
    oak = synced("rowan", 75, tmp_path)
    pupil = pupil_in(oak, "Year 3", picture=False)
    password = secret_of(pupil)
    base, slug = live_server.url, oak.slug

    # before any lockout, an unknown username gets exactly what a real one with a wrong password gets
    # (one whose decoy form is a password box, like this pupil's)
    nobody = next(
        f"NoSuchPupil{n}" for n in range(200) if decoy_pin_length(oak.school, f"NoSuchPupil{n}") is None
    )
    enter_username(page, base, slug, nobody)
    unknown_step = main_text(page, nobody)
    assert type_password(page, "Wrong11") == 200
    unknown_wrong = main_text(page, nobody)
    enter_username(page, base, slug, pupil.username)
    assert main_text(page, pupil.username) == unknown_step
    assert type_password(page, "Wrong11") == 200
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    assert main_text(page, pupil.username) == unknown_wrong
    wrong_shape = main_text(page, pupil.username, WRONG)

    # five wrong tries lock the account: the same page, a different message, even for the right password
    statuses = [type_password(page, f"Wrong{n}") for n in range(2, LIMIT + 1)]
    assert statuses == [200] * (LIMIT - 2) + [429]
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(LOCKED)
    locked_message = alert.inner_text()
    assert main_text(page, pupil.username, locked_message) == wrong_shape
    assert type_password(page, password) == 429
    expect(page.get_by_role("alert")).to_contain_text(LOCKED)
    screenshot(page, "pupil-locked-out")
    axe_check(page, "pupil-locked-out")

    # the class teacher, in another browser, clears it from the pupil's login page
    teacher = second_page
    sign_in(teacher, base, slug, class_teacher(oak, pupil))
    teacher.goto(f"{base}/{slug}/manage/cards/")
    teacher.get_by_role("link", name=f"Login details for {pupil.forename} {pupil.surname}").click()
    teacher.wait_for_url(f"{base}/{slug}/manage/pupils/{pupil.pk}/login/")
    lockout = teacher.get_by_role("region", name="Sign-in lockout")
    # the right password typed while locked out counts as one more failure
    expect(lockout).to_contain_text(f"Locked: too many wrong passwords ({LIMIT + 1} recently).")
    screenshot(teacher, "teacher-pupil-login-locked")
    axe_check(teacher, "teacher-pupil-login-locked")
    lockout.get_by_role("button", name="Clear lockout").click()
    expect(teacher.get_by_role("status")).to_contain_text("Lockout cleared: the pupil can sign in again.")
    expect(teacher.get_by_role("region", name="Sign-in lockout")).to_contain_text("Not locked.")

    # the pupil can sign in now
    assert type_password(page, password) == 302
    expect_pupil_home(page, base, slug, pupil)


def test_a_class_cards_pdf_holds_every_username(live_server: Any, page: Any, tmp_path: Path) -> None:
    oak = synced("rowan", 76, tmp_path)
    sign_in(page, live_server.url, oak.slug, oak.admin_email)
    page.goto(f"{live_server.url}/{oak.slug}/manage/cards/")
    expect(h1(page)).to_have_text("Login cards")
    screenshot(page, "login-cards")
    axe_check(page, "login-cards")
    chosen = pupil_in(oak, "Year 1", picture=True).registration_class
    assert chosen is not None
    form = page.get_by_role("region", name="A class")
    form.get_by_label("Class", exact=True).select_option(label=chosen.name)
    with page.expect_download() as download:
        form.get_by_role("button", name="Download class cards (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    content = Path(download.value.path()).read_bytes()
    reader = PdfReader(io.BytesIO(content))
    text = re.sub(r"\s+", "", "\n".join(p.extract_text() for p in reader.pages))

    pupils = list(Account.objects.filter(registration_class=chosen, status="active", role="pupil"))
    assert pupils
    assert len(reader.pages) == -(-len(pupils) // 8)  # eight cards a page
    for pupil in pupils:
        pin = secret_of(pupil)
        assert pupil.username in text
        assert pin.isdigit() and f"{pupil.username}PicturePIN{pin}" in text
    # one card for each pupil of the class, and none for anyone else
    printed = re.findall(r"Username(\S+?)PicturePIN[0-9]+", text)
    assert sorted(printed) == sorted(p.username for p in pupils)
    assert f"Signinat{live_server.url}/{oak.slug}/" in text
