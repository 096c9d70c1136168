"""The MIS Sync Wizard through Django's test client: every step, a whole run and a rerun a year later,
duplicates, errors, hand-edited forms, the background job, and the walls between schools and roles."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from missync.accounts.apply import apply_plan
from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SyncRun
from missync.accounts.services import add_user, preview
from missync.cli import main
from missync.report import ROW_LABELS
from missync.sample import (
    SampleSchool,
    generate_school,
    next_academic_year,
    write_oneroster,
    write_spreadsheet,
)
from missync.wizard.logins import create_login
from missync.wizard.models import SyncJob
from tests.store.helpers import school_state

from .conftest import PASSWORD, SyncedSchool, signed_in

SYNC = "/{slug}/manage/sync/"


# -- fixtures and helpers ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def wizard_settings(settings: Any, tmp_path: Path) -> Path:
    """Uploads in the test's own folder; jobs run inline (one test below runs the real thread)."""
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.MISSYNC_SYNC_JOBS_INLINE = True
    return settings.UPLOAD_ROOT


class FreshSchool:
    def __init__(self, slug: str, seed: int, folder: Path) -> None:
        self.school = School.objects.create(slug=slug, name=f"{slug.title()} Primary School")
        self.sample = generate_school(seed=seed)
        self.folder = folder
        self.admin_email = f"office@{slug}.example.org"
        create_login(self.school, self.admin_email, PASSWORD, role="admin", name="Office Admin")
        self.client = Client()
        response = self.client.post(f"/{slug}/", {"email": self.admin_email, "password": PASSWORD})
        assert response.status_code == 302

    @property
    def url(self) -> str:
        return SYNC.format(slug=self.school.slug)

    def oneroster(self, sample: SampleSchool | None = None, name: str = "export.zip") -> Path:
        return write_oneroster(sample or self.sample, self.folder / name)


@pytest.fixture
def ash(db: None, tmp_path: Path) -> FreshSchool:
    """A school with an admin and no accounts yet, and a made-up primary school's MIS to sync."""
    return FreshSchool("ash", 41, tmp_path)


class FormValues(HTMLParser):
    """The values a browser would submit for each form of a page (defaults as rendered)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "values": []})
        elif not self.forms:
            return
        values = self.forms[-1]["values"] if self.forms else []
        if tag == "input" and a.get("name") and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            values.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = a.get("name"), None, False
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a and not self._select_chosen:
                values.append((self._select, a.get("value", "")))
                self._select_chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._select_chosen:
                self.forms[-1]["values"].append((self._select, self._select_first or ""))
            self._select = None


def step_form(html: bytes) -> dict[str, Any]:
    """The step's own form (not Cancel or Sign out, which post elsewhere), as a dict of its values."""
    parser = FormValues()
    parser.feed(html.decode())
    form = next(f for f in parser.forms if not f["action"])
    data: dict[str, Any] = {}
    for name, value in form["values"]:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value
    return data


def upload(client: Client, url: str, *paths: Path) -> Any:
    files: dict[str, Any] = {}
    for field, path in zip(("export", "staff_export"), paths, strict=False):
        files[field] = path.open("rb")
    try:
        return client.post(url, files)
    finally:
        for handle in files.values():
            handle.close()


def answer(client: Client, url: str, **changes: Any) -> Any:
    """Submit a step's form as rendered, with `changes`, pressing Next."""
    page = client.get(url)
    assert page.status_code == 200, page.content[:300]
    data = {**step_form(page.content), "go": "next", **changes}
    return client.post(url, data)


def walk_to_summary(school: FreshSchool, *paths: Path) -> bytes:
    """Upload and accept every step's suggestions; return the summary page."""
    client, url = school.client, school.url
    response = upload(client, url, *paths)
    assert response.status_code == 302 and response["Location"] == url + "usernames/", response.content[:2000]
    for step, following in (
        ("usernames/", "passwords/"),
        ("passwords/", "year-groups/"),
        ("year-groups/", "subject-groups/"),
        ("subject-groups/", "summary/"),
    ):
        response = answer(client, url + step)
        assert response.status_code == 302, response.content[:3000]
        assert response["Location"] == url + following
    page = client.get(url + "summary/")
    assert page.status_code == 200
    return page.content


def shown_counts(html: bytes) -> dict[str, int]:
    """The count on each summary row, by summary key."""
    text = html.decode()
    counts = {}
    for key, label in ROW_LABELS.items():
        found = re.search(
            r'<span class="row-label">' + re.escape(label) + r"(?:<span[^>]*>[^<]*</span>)?</span>\s*"
            r'<span class="count">(\d+)</span>',
            text,
        )
        assert found, f"no summary row for {label}"
        counts[key] = int(found.group(1))
    return counts


def cli_preview(slug: str, *paths: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["preview", slug, *map(str, paths), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def finish(school: FreshSchool, summary_html: bytes, **extra: str) -> Any:
    data = {**step_form(summary_html), "action": "finish", **extra}
    return school.client.post(school.url + "summary/", data)


# -- a whole run ---------------------------------------------------------------------------------------
def test_a_whole_wizard_run_from_upload_to_result(ash: FreshSchool, wizard_settings: Path) -> None:
    export = ash.oneroster()
    client, url = ash.client, ash.url
    start = client.get(url)
    assert start.status_code == 200 and b"MIS Sync Wizard" in start.content
    assert b'aria-current="step"' in start.content and start.content.count(b"<h1") == 1

    response = upload(client, url, export)
    assert response.status_code == 302
    stored = list((wizard_settings / "ash").iterdir())
    assert len(stored) == 1 and [p.name for p in stored[0].iterdir()] == ["export.zip"]

    usernames = client.get(url + "usernames/")
    assert b"apply to new users only" in usernames.content
    pupil = ash.sample.pupils[0]
    expected = f"{pupil.forename} {pupil.surname} → {pupil.forename}{pupil.surname[0]}"
    assert expected.encode() in usernames.content  # the school's own people, e.g. "Amelia Jones → AmeliaJ"
    summary = walk_to_summary(ash, export)

    counts = shown_counts(summary)
    document = cli_preview("ash", export)
    assert counts == document["summary"]
    assert counts["new_pupils"] == len(ash.sample.pupils) and counts["new_staff"] == len(ash.sample.staff)
    assert b"<details" in summary and b"Nothing has been written yet" in summary
    assert not Account.objects.filter(school=ash.school).exists()

    response = finish(ash, summary)
    assert response.status_code == 302
    job = SyncJob.objects.get(school=ash.school)
    assert response["Location"] == f"{url}jobs/{job.pk}/"
    result = client.get(response["Location"])
    assert result.status_code == 200 and b"Sync finished" in result.content
    job.refresh_from_db()
    assert job.status == "done"
    run = SyncRun.objects.get(school=ash.school)
    assert job.run == run and run.actor == ash.admin_email and run.source == "export.zip"
    assert run.summary == document["summary"]
    for sample_pupil in ash.sample.pupils:
        account = Account.objects.get(school=ash.school, upn=sample_pupil.upn)
        assert account.registration_class is not None
        assert account.registration_class.name == sample_pupil.reg_group
        assert account.year_group == sample_pupil.year

    # new staff were sent activation links pointing at this server
    assert len(mail.outbox) == counts["new_staff"]
    assert all("http://testserver/ash/activate/" in message.body for message in mail.outbox)

    # the upload is gone and the wizard starts afresh
    assert not any((wizard_settings / "ash").iterdir())
    assert client.get(url + "usernames/")["Location"] == url

    # the new pupils' login details
    logins_url = f"{url}history/{run.pk}/logins.csv"
    assert logins_url.encode() in result.content
    download = client.get(logins_url)
    assert download.status_code == 200 and download["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Class", "Username", "Password"]
    assert len(rows) - 1 == counts["new_pupils"]
    name, klass, username, password = rows[1]
    account = Account.objects.get(school=ash.school, username=username)
    assert decrypt_credential(account.credential) == password and klass == account.registration_class.name
    assert name == f"{account.forename} {account.surname}"


def test_formats_chosen_in_the_wizard_make_the_new_users(ash: FreshSchool) -> None:
    export = ash.oneroster()
    upload(ash.client, ash.url, export)
    response = answer(
        ash.client,
        ash.url + "usernames/",
        pupil_username_format="full-name",
        staff_username_format="forename-initial-surname",
    )
    assert response["Location"] == ash.url + "passwords/"
    page = ash.client.get(ash.url + "passwords/")
    assert b'name="password-reception"' in page.content and b'name="password-year-6"' in page.content
    assert b"e.g. <strong>" in page.content and b"hx-get=" in page.content
    answer(ash.client, ash.url + "passwords/", **{"password-year-3": "colours"})
    for step in ("year-groups/", "subject-groups/"):
        answer(ash.client, ash.url + step)
    summary = ash.client.get(ash.url + "summary/").content
    assert b"Forename initial + Surname (JSmith)" in summary and b"Year 3: Colours" in summary
    finish(ash, summary)
    pupil = next(
        p for p in ash.sample.pupils if p.year == "Year 3" and p.forename.isascii() and p.surname.isalpha()
    )
    account = Account.objects.get(school=ash.school, upn=pupil.upn)
    assert account.username.startswith(pupil.forename + pupil.surname)
    assert re.fullmatch(r"[A-Z][a-z]+\d\d", decrypt_credential(account.credential) or "")
    ash.school.refresh_from_db()
    assert ash.school.pupil_username_format == "full-name"  # remembered for next time
    assert ash.school.password_formats["Year 3"] == "colours"


def test_back_and_forward_keep_the_answers(ash: FreshSchool) -> None:
    upload(ash.client, ash.url, ash.oneroster())
    answer(ash.client, ash.url + "usernames/", pupil_username_format="initials")
    response = answer(ash.client, ash.url + "passwords/", go="back", **{"password-year-1": "things"})
    assert response["Location"] == ash.url + "usernames/"
    usernames = step_form(ash.client.get(ash.url + "usernames/").content)
    assert usernames["pupil_username_format"] == "initials"
    passwords = step_form(ash.client.get(ash.url + "passwords/").content)
    assert passwords["password-year-1"] == "things"
    # steps not reached yet cannot be skipped to
    assert ash.client.get(ash.url + "summary/")["Location"] == ash.url + "year-groups/"
    page = ash.client.get(ash.url + "passwords/").content
    assert f'href="{ash.url}usernames/"'.encode() in page  # reached steps are links in the step list
    assert f'href="{ash.url}summary/"'.encode() not in page


def test_the_summary_counts_equal_the_cli_for_a_spreadsheet_with_year_names_to_map(
    ash: FreshSchool, tmp_path: Path
) -> None:
    sample = ash.sample
    for pupil in sample.pupils:
        if pupil.year == "Year 5":
            pupil.year = "Upper Juniors"  # an MIS name nothing can guess
    pupils_file = write_spreadsheet(sample, tmp_path / "sims.csv", split=True)[0]
    staff_file = tmp_path / "sims-staff.csv"  # a staff file as MISs export it: no pupil columns
    with staff_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Staff Code", "Forename", "Surname", "Email"])
        writer.writerows([s.staff_code, s.forename, s.surname, s.email] for s in sample.staff)
    paths = [pupils_file, staff_file]
    response = upload(ash.client, ash.url, *paths)
    assert response.status_code == 302
    assert b"sims-pupils.csv, sims-staff.csv" in ash.client.get(ash.url + "usernames/").content
    for step in ("usernames/", "passwords/"):
        answer(ash.client, ash.url + step)
    page = ash.client.get(ash.url + "year-groups/")
    assert b"Upper Juniors" in page.content and b"Not mapped yet" in page.content
    form = step_form(page.content)
    field = next(name for name, value in form.items() if value == "")
    missing = ash.client.post(ash.url + "year-groups/", {**form, "go": "next"})
    assert missing.status_code == 200 and b"Choose the year group that the MIS year" in missing.content
    assert f'aria-describedby="id_{field}-error"'.encode() in missing.content
    assert ash.client.get(ash.url + "summary/").status_code == 302  # not past the year groups yet

    hand_edited = ash.client.post(ash.url + "year-groups/", {**form, field: "Year 99", "go": "next"})
    assert hand_edited.status_code == 200
    assert "“Year 99” is not a platform year group".encode() in hand_edited.content
    ash.school.refresh_from_db()
    assert ash.school.year_map == {}  # nothing was remembered

    response = ash.client.post(ash.url + "year-groups/", {**form, field: "Year 5", "go": "next"})
    assert response.status_code == 302
    ash.school.refresh_from_db()
    assert ash.school.year_map["Upper Juniors"] == "Year 5"
    answer(ash.client, ash.url + "subject-groups/")
    summary = ash.client.get(ash.url + "summary/").content
    counts = shown_counts(summary)
    assert counts == cli_preview("ash", *paths)["summary"]
    assert counts["errors"] == 0 and counts["new_pupils"] == len(sample.pupils)
    assert counts["new_staff"] == len(sample.staff)


def test_subject_groups_are_ticked_counted_and_remembered(ash: FreshSchool) -> None:
    export = ash.oneroster()
    upload(ash.client, ash.url, export)
    for step in ("usernames/", "passwords/", "year-groups/"):
        answer(ash.client, ash.url + step)
    page = ash.client.get(ash.url + "subject-groups/").content
    groups = ash.sample.subject_groups()
    assert all(name.encode() in page for name in groups) and b"pupil" in page
    keep = groups[0]
    bad = ash.client.post(ash.url + "subject-groups/", {"subject_groups": [keep, "Knitting"], "go": "next"})
    assert bad.status_code == 200 and "“Knitting” is not a subject group".encode() in bad.content
    ash.school.refresh_from_db()
    assert ash.school.subject_groups is None
    response = ash.client.post(ash.url + "subject-groups/", {"subject_groups": [keep], "go": "next"})
    assert response.status_code == 302
    ash.school.refresh_from_db()
    assert ash.school.subject_groups == [keep]
    summary = ash.client.get(ash.url + "summary/").content
    counts = shown_counts(summary)
    assert counts == cli_preview("ash", export)["summary"]
    registration = len(ash.sample.reg_groups())
    assert counts["new_classes"] == registration + 1


def test_a_school_without_subject_groups_skips_with_a_note(ash: FreshSchool, tmp_path: Path) -> None:
    path = tmp_path / "pupils.csv"
    path.write_text(
        "Adno,Forename,Surname,Year,Reg Group\n1001,Testa,Example,Year 2,2 Oak\n1002,Testb,Sample,R,R Oak\n",
        encoding="utf-8",
    )
    upload(ash.client, ash.url, path)
    for step in ("usernames/", "passwords/", "year-groups/"):
        answer(ash.client, ash.url + step)
    page = ash.client.get(ash.url + "subject-groups/")
    assert b"no subject groups" in page.content
    assert answer(ash.client, ash.url + "subject-groups/")["Location"] == ash.url + "summary/"


# -- a rerun a year later ------------------------------------------------------------------------------
def test_a_rerun_a_year_later_moves_pupils_after_the_hold_is_confirmed(ash: FreshSchool) -> None:
    first = ash.oneroster(name="2026.zip")
    apply_plan(ash.school, preview(ash.school, [str(first)]).plan)
    later = next_academic_year(ash.sample, seed=5)
    export = ash.oneroster(later, name="2027.zip")
    summary = walk_to_summary(ash, export)
    counts = shown_counts(summary)
    assert counts == cli_preview("ash", export)["summary"]
    assert counts["leavers"] > 0 and counts["moved"] > 0 and b"Held for review" in summary
    before = school_state(ash.school)

    refused = finish(ash, summary)  # no confirmation: nothing happens
    assert refused.status_code == 200 and b"Tick the box to confirm" in refused.content
    assert b'aria-describedby="confirm_hold-error"' in refused.content
    assert school_state(ash.school) == before and not SyncJob.objects.filter(school=ash.school).exists()

    response = finish(ash, summary, confirm_hold="yes")
    assert response.status_code == 302
    run = SyncRun.objects.filter(school=ash.school).first()
    assert run is not None and run.hold_confirmed and run.source == "2027.zip"
    for pupil in later.pupils:
        account = Account.objects.get(school=ash.school, upn=pupil.upn)
        assert account.registration_class.name == pupil.reg_group and account.status == "active"
    staying = {p.upn for p in later.pupils}
    left = [p for p in ash.sample.pupils if p.upn not in staying]
    assert left and all(Account.objects.get(school=ash.school, upn=p.upn).status == "archived" for p in left)


# -- duplicates ----------------------------------------------------------------------------------------
def _hand_made_twin(school: FreshSchool) -> tuple[Account, str, Any]:
    """A pupil added by hand before syncing, who is also in the MIS (no UPN to match on)."""
    surnames = [p.surname for p in school.sample.pupils]
    pupil = next(p for p in school.sample.pupils if surnames.count(p.surname) == 1 and p.forename.isascii())
    account, password = add_user(
        school.school,
        forename=pupil.forename,
        surname=pupil.surname,
        year=pupil.year,
        class_name=pupil.reg_group,
        dob=pupil.dob,
    )
    assert password is not None
    return account, password, pupil


def test_same_person_links_a_possible_duplicate_keeping_its_login(ash: FreshSchool) -> None:
    account, password, pupil = _hand_made_twin(ash)
    username = account.username
    summary = walk_to_summary(ash, ash.oneroster())
    assert shown_counts(summary)["possible_duplicates"] == 1
    form = step_form(summary)
    field = next(name for name in form if name.startswith("duplicate:"))
    assert form[field] == "skip"  # undecided until the admin says

    # a decision for someone who is not a possible duplicate changes nothing
    bogus = ash.client.post(ash.url + "summary/", {**form, "duplicate:u-nobody": "link", "action": "save"})
    assert bogus.status_code == 400 and "no possible duplicate “u-nobody”".encode() in bogus.content
    bad_value = ash.client.post(ash.url + "summary/", {**form, field: "merge", "action": "save"})
    assert bad_value.status_code == 400 and "“merge” is not a decision".encode() in bad_value.content
    assert step_form(ash.client.get(ash.url + "summary/").content)[field] == "skip"

    saved = ash.client.post(ash.url + "summary/", {**form, field: "link", "action": "save"})
    assert saved.status_code == 302
    summary = ash.client.get(ash.url + "summary/").content
    assert step_form(summary)[field] == "link" and b"same person: links to the existing account" in summary
    finish(ash, summary)
    account.refresh_from_db()
    assert account.source == "oneroster" and account.upn == pupil.upn
    assert account.username == username
    assert decrypt_credential(account.credential) == password
    assert Account.objects.filter(school=ash.school, upn=pupil.upn).count() == 1


def test_resolve_all_duplicates_links_them_all(ash: FreshSchool) -> None:
    account, _, _ = _hand_made_twin(ash)
    username = account.username
    summary = walk_to_summary(ash, ash.oneroster())
    response = ash.client.post(ash.url + "summary/", {**step_form(summary), "action": "resolve-all"})
    assert response.status_code == 302
    summary = ash.client.get(ash.url + "summary/").content
    assert all(v == "link" for k, v in step_form(summary).items() if k.startswith("duplicate:"))
    finish(ash, summary)
    account.refresh_from_db()
    assert account.source and account.username == username


def test_finish_refuses_choices_changed_in_another_tab_after_the_summary(ash: FreshSchool) -> None:
    summary = walk_to_summary(ash, ash.oneroster())
    # in another tab, Year 3's password format changes after this summary was shown
    answer(ash.client, ash.url + "passwords/", **{"password-year-3": "noun6-digits4"})
    for step in ("year-groups/", "subject-groups/"):
        answer(ash.client, ash.url + step)
    response = finish(ash, summary)
    assert response.status_code == 302 and response["Location"] == ash.url + "summary/"
    assert not SyncRun.objects.filter(school=ash.school).exists()


def test_finish_refuses_when_the_summary_changed_meanwhile(ash: FreshSchool) -> None:
    summary = walk_to_summary(ash, ash.oneroster())
    _hand_made_twin(ash)  # someone adds a pupil by hand while the admin reads the summary
    before = school_state(ash.school)
    response = finish(ash, summary)
    assert response.status_code == 302 and response["Location"] == ash.url + "summary/"
    page = ash.client.get(ash.url + "summary/")
    assert b"the summary changed since you looked at it" in page.content
    assert school_state(ash.school) == before and not SyncRun.objects.filter(school=ash.school).exists()
    assert shown_counts(page.content)["possible_duplicates"] == 1


def test_changing_a_decision_then_pressing_finish_shows_the_new_summary_first(ash: FreshSchool) -> None:
    _hand_made_twin(ash)
    summary = walk_to_summary(ash, ash.oneroster())
    form = step_form(summary)
    field = next(name for name in form if name.startswith("duplicate:"))
    response = ash.client.post(ash.url + "summary/", {**form, field: "new", "action": "finish"})
    assert response["Location"] == ash.url + "summary/"
    assert not SyncRun.objects.filter(school=ash.school).exists()
    assert step_form(ash.client.get(ash.url + "summary/").content)[field] == "new"


# -- errors --------------------------------------------------------------------------------------------
def test_users_with_errors_are_listed_with_how_to_fix_them(ash: FreshSchool, tmp_path: Path) -> None:
    path = tmp_path / "everyone.csv"
    path.write_text(
        "Adno,Forename,Surname,Year,Reg Group,Email,Role\n"
        "5001,Testa,Roster,Year 3,3 Oak,,Pupil\n"
        "5002,Nogroup,Fakename,Year 3,,,Pupil\n"
        "5003,Nomail,Madeup,,,,Staff\n"
        "5004,Hasmail,Invented,,,hasmail@ash.example.org,Staff\n",
        encoding="utf-8",
    )
    summary = walk_to_summary(ash, path)
    counts = shown_counts(summary)
    assert counts == cli_preview("ash", path)["summary"]
    assert counts["errors"] == 2 and counts["new_pupils"] == 1 and counts["new_staff"] == 1
    text = summary.decode()
    assert "Users who will not be imported due to errors" in text and "(needs your attention)" in text
    assert "Nogroup Fakename" in text and "has no registration group" in text
    assert "give the pupil a registration group" in text
    assert "Nomail Madeup" in text and "has no email address" in text and "work email address" in text
    finish(ash, summary)
    assert Account.objects.filter(school=ash.school).count() == 2


def test_a_bad_file_gets_a_clear_message_and_changes_nothing(
    ash: FreshSchool, tmp_path: Path, wizard_settings: Path
) -> None:
    junk = tmp_path / "notes.csv"
    junk.write_text("Shopping,List\nmilk,2\n", encoding="utf-8")
    response = upload(ash.client, ash.url, junk)
    assert response.status_code == 200
    assert b"The file could not be read: notes.csv: not a recognised MIS export" in response.content
    assert b'aria-describedby="id_export-error' in response.content
    assert str(wizard_settings).encode() not in response.content  # no server paths in messages
    assert not any((wizard_settings / "ash").iterdir())
    assert ash.client.get(ash.url + "usernames/")["Location"] == ash.url

    old = tmp_path / "export.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    response = upload(ash.client, ash.url, old)
    assert b"save it from Excel as .xlsx or .csv" in response.content
    zipped = tmp_path / "broken.zip"
    zipped.write_bytes(b"not a zip at all")
    response = upload(ash.client, ash.url, zipped)
    assert b"broken.zip: is not a zip file" in response.content
    assert ash.client.post(ash.url, {}).status_code == 200  # no file at all: the form says so
    assert not Account.objects.filter(school=ash.school).exists()


def test_uploaded_file_names_never_become_paths(
    ash: FreshSchool, tmp_path: Path, wizard_settings: Path
) -> None:
    sample_csv = write_spreadsheet(ash.sample, tmp_path / "x.csv")[0]
    hostile = SimpleUploadedFile("../../../../etc/Staff & Pupils.CSV", sample_csv.read_bytes())
    response = ash.client.post(ash.url, {"export": hostile})
    assert response.status_code == 302
    (folder,) = (wizard_settings / "ash").iterdir()
    assert [p.name for p in folder.iterdir()] == ["Staff-Pupils.csv"]


def test_cancel_removes_the_upload_and_forgets_the_answers(ash: FreshSchool, wizard_settings: Path) -> None:
    upload(ash.client, ash.url, ash.oneroster())
    answer(ash.client, ash.url + "usernames/", pupil_username_format="initials")
    assert ash.client.get(ash.url).content.count(b"Continue with this file") == 1
    response = ash.client.post(ash.url + "cancel/")
    assert response.status_code == 302
    assert not any((wizard_settings / "ash").iterdir())
    assert ash.client.get(ash.url + "passwords/")["Location"] == ash.url
    assert not Account.objects.filter(school=ash.school).exists()


def test_a_hand_edited_username_format_is_refused(ash: FreshSchool) -> None:
    upload(ash.client, ash.url, ash.oneroster())
    response = answer(ash.client, ash.url + "usernames/", pupil_username_format="emoji")
    assert response.status_code == 200
    assert "“emoji” is not a username format".encode() in response.content
    assert b'href="#id_pupil_username_format_0"' in response.content  # the error summary links the field
    assert step_form(ash.client.get(ash.url + "usernames/").content)["pupil_username_format"] == (
        "forename-surname-initial"
    )
    not_yet = ash.client.post(ash.url + "passwords/", {"password-year-2": "picture-pin", "go": "next"})
    assert not_yet["Location"] == ash.url + "usernames/"  # not reached yet: sent back to usernames
    answer(ash.client, ash.url + "usernames/")
    bad_password = answer(ash.client, ash.url + "passwords/", **{"password-year-2": "hunter2"})
    assert (
        bad_password.status_code == 200
        and "“hunter2” is not a password format".encode() in bad_password.content
    )
    example = ash.client.get(ash.url + "passwords/example/", {"password-year-2": "picture-pin"})
    assert re.fullmatch(rb"e\.g\. <strong>\d{4}</strong>", example.content)
    assert ash.client.get(ash.url + "passwords/example/", {"x": "nope"}).status_code == 400


# -- the background job ---------------------------------------------------------------------------------
def test_a_failing_job_records_a_clear_message_and_changes_nothing(
    ash: FreshSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = walk_to_summary(ash, ash.oneroster())
    before = school_state(ash.school)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire: Amelia Jones")

    monkeypatch.setattr("missync.wizard.jobs.apply_plan", broken)
    response = finish(ash, summary)
    page = ash.client.get(response["Location"])
    assert b"The sync was not written" in page.content and b"Nothing was changed" in page.content
    assert b"Amelia" not in page.content
    job = SyncJob.objects.get(school=ash.school)
    assert job.status == "failed" and "RuntimeError" in job.message
    assert school_state(ash.school) == before
    assert b"Back to the summary" in page.content
    again = ash.client.get(ash.url + "summary/")  # the answers are still there to try again
    assert again.status_code == 200 and b"What the sync will do" in again.content


def test_a_job_left_by_a_restarted_server_is_marked_failed(ash: FreshSchool) -> None:
    old = SyncJob.objects.create(school=ash.school, status="running", step="Writing the changes")
    SyncJob.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(hours=1))
    fresh = SyncJob.objects.create(school=ash.school, status="running", step="Writing the changes")
    page = ash.client.get(f"{ash.url}jobs/{old.pk}/")
    assert b"server was restarted" in page.content
    assert SyncJob.objects.get(pk=old.pk).status == "failed"
    ash.client.get(f"{ash.url}jobs/{fresh.pk}/progress/")
    assert SyncJob.objects.get(pk=fresh.pk).status == "running"  # recent: may still be writing


@pytest.mark.django_db(transaction=True)
def test_the_real_background_thread_applies_and_the_page_polls_until_done(
    ash: FreshSchool, settings: Any
) -> None:
    settings.MISSYNC_SYNC_JOBS_INLINE = False
    summary = walk_to_summary(ash, ash.oneroster())
    response = finish(ash, summary)
    job_url = response["Location"]
    job = SyncJob.objects.get(school=ash.school)
    page = ash.client.get(job_url)
    if b"writing the sync" in page.content:
        assert b'hx-trigger="every 1s"' in page.content and b'http-equiv="refresh"' in page.content
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fragment = ash.client.get(f"{job_url}progress/", HTTP_HX_REQUEST="true")
        if fragment.status_code == 200 and fragment.get("HX-Redirect") == job_url:
            break
        assert fragment.status_code == 200
        time.sleep(0.2)
    job.refresh_from_db()
    assert job.status == "done", job.message
    result = ash.client.get(job_url)
    assert b"Sync finished" in result.content
    assert Account.objects.filter(school=ash.school, role="pupil").count() == len(ash.sample.pupils)
    assert ash.client.get(f"{job_url}progress/").status_code == 302  # no JavaScript: a plain redirect


# -- permissions ---------------------------------------------------------------------------------------
def wizard_urls(slug: str, job_id: int, run_id: int) -> list[tuple[str, str]]:
    base = SYNC.format(slug=slug)
    pages = ["", "usernames/", "passwords/", "passwords/example/", "year-groups/", "subject-groups/"]
    pages += ["summary/", f"jobs/{job_id}/", f"jobs/{job_id}/progress/", "history/", f"history/{run_id}/"]
    pages += [f"history/{run_id}/report.csv", f"history/{run_id}/logins.csv"]
    gets = [("get", base + page) for page in pages]
    posts = ["", "usernames/", "summary/", "cancel/", "history/undo/", f"history/{run_id}/undo/"]
    return gets + [("post", base + page) for page in posts]


def test_a_teacher_gets_404_for_every_wizard_and_history_page(oak: SyncedSchool, teacher: Client) -> None:
    run = SyncRun.objects.get(school=oak.school)
    job = SyncJob.objects.create(school=oak.school, status="done", run=run)
    for method, url in wizard_urls("oak", job.pk, run.pk):
        assert getattr(teacher, method)(url).status_code == 404, url


def test_another_schools_admin_gets_404_everywhere_including_its_ids(
    oak: SyncedSchool, elm: SyncedSchool, admin: Client
) -> None:
    elm_run = SyncRun.objects.get(school=elm.school)
    elm_job = SyncJob.objects.create(school=elm.school, status="done", run=elm_run)
    before = school_state(elm.school)
    for method, url in wizard_urls("elm", elm_job.pk, elm_run.pk):
        assert getattr(admin, method)(url, {"confirm": "yes"}).status_code == 404, url
    # elm's ids under oak's own address do not exist either
    for url in (
        f"/oak/manage/sync/jobs/{elm_job.pk}/",
        f"/oak/manage/sync/jobs/{elm_job.pk}/progress/",
        f"/oak/manage/sync/history/{elm_run.pk}/",
        f"/oak/manage/sync/history/{elm_run.pk}/report.csv",
        f"/oak/manage/sync/history/{elm_run.pk}/logins.csv",
    ):
        assert admin.get(url).status_code == 404, url
    assert admin.post(f"/oak/manage/sync/history/{elm_run.pk}/undo/", {"confirm": "yes"}).status_code == 404
    assert school_state(elm.school) == before
    assert SyncRun.objects.get(pk=elm_run.pk).status == "applied"
    signed_out = Client()
    assert signed_out.get("/oak/manage/sync/summary/").status_code == 302  # to the sign-in page
    assert signed_in(oak, oak.admin_email).get("/oak/manage/sync/").status_code == 200
