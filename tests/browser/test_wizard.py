"""The MIS Sync Wizard in real Chromium: a whole run on a made-up primary school, a rerun a year later with
the safety hold, possible duplicates, the error list, undo, and a bad upload.

The sync job runs in its real background thread (`MISSYNC_SYNC_JOBS_INLINE = False`): after Finish the
progress page polls until the result page appears. Each wizard page gets a screenshot under
test-output/screenshots/ and an axe-core check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from missync.accounts.apply import apply_plan
from missync.accounts.models import Account, SyncRun
from missync.accounts.services import add_user, preview
from missync.sample import SampleSchool, generate_school, next_academic_year, write_oneroster
from missync.wizard.models import SyncJob

from .helpers import (
    Gate,
    check_step,
    cli_preview,
    finish_and_wait,
    h1,
    names,
    new_school,
    open_wizard,
    result_counts,
    rowheaders,
    search_pupils,
    shown_counts,
    sign_in,
    summary_row,
    undo_confirm,
    upload,
    walk_to_summary,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def wizard_settings(settings: Any, tmp_path: Path) -> Path:
    """Uploads in the test's own folder; the sync job runs in its real background thread."""
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.MISSYNC_SYNC_JOBS_INLINE = False
    return settings.UPLOAD_ROOT


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """Holds the sync job before it writes, so its progress page can be photographed and checked."""
    from missync.wizard import jobs

    held = Gate()
    monkeypatch.setattr(jobs, "apply_plan", held.wrap(jobs.apply_plan))
    yield held
    held.cancel()


def uploads_left(root: Path, slug: str) -> list[Path]:
    folder = root / slug
    return list(folder.rglob("*")) if folder.exists() else []


def open_class(page: Any, name: str) -> None:
    """Manage Users → Classes → the class's pupils."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage Users").click()
    page.get_by_role("navigation", name="Manage Users").get_by_role(
        "link", name=re.compile("^Classes")
    ).click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Classes")
    page.get_by_role("link", name=re.compile(rf"^\d+ pupils? in {re.escape(name)}$")).click()
    expect(h1(page)).to_have_text(name)


# -- 1. a whole run --------------------------------------------------------------------------------------
def test_a_whole_wizard_run_on_a_sample_primary_school(
    live_server: Any, page: Any, tmp_path: Path, wizard_settings: Path, gate: Gate
) -> None:
    school, email = new_school("willow", "Willow Primary School")
    sample = generate_school(seed=61, name="Willow Primary School")
    export = write_oneroster(sample, tmp_path / "willow-oneroster.zip")

    sign_in(page, live_server.url, "willow", email)
    open_wizard(page)
    check_step(page, "wizard-1-source")
    expected: dict[str, Any] = {}

    def on_step(number: int, step: str) -> None:
        if step == "usernames/":
            expect(page.get_by_text("These formats apply to new users only.")).to_be_visible()
            pupils = page.get_by_role("group", name="Username format for new pupils")
            default = pupils.get_by_role("radio", name=re.compile(r"^Forename \+ Surname initial \(JohnS\)"))
            expect(default).to_be_checked()
            expect(
                page.get_by_role("group", name="Username format for new staff").get_by_role("radio").first
            ).to_be_checked()
            # each format is shown on the school's own new pupils, e.g. "Amelia Jones → AmeliaJ"
            shown = pupils.locator("label").first.locator(".examples > span").all_inner_texts()
            examples = [text.split(" → ") for text in shown]
            assert examples and all(name in names(sample.pupils) for name, _ in examples), shown
            assert all(username == name.split()[0] + name.split()[-1][0] for name, username in examples), (
                shown
            )
            check_step(page, "wizard-2-usernames")
        elif step == "passwords/":
            year3 = page.get_by_label("Year 3", exact=True)
            expect(year3).to_have_value("animals")
            year3.select_option(label="Colours (Red54)")  # htmx fetches a new example beside it
            expect(page.locator("#id_password-year-3-example")).to_have_text(
                re.compile(r"^e\.g\. [A-Z][a-z]+\d\d$")
            )
            check_step(page, "wizard-3-passwords")
        elif step == "year-groups/":
            expect(page.get_by_text("Not mapped yet")).to_have_count(0)
            # OneRoster grade codes, each with its suggested platform year group
            for code, year in (("KG", "Reception"), ("03", "Year 3"), ("06", "Year 6")):
                expect(page.get_by_role("combobox", name=code, exact=True)).to_have_value(year)
            check_step(page, "wizard-4-year-groups")
        elif step == "subject-groups/":
            for group in sample.subject_groups()[:3]:
                expect(
                    page.get_by_role("checkbox", name=re.compile("^" + re.escape(group) + " "))
                ).to_be_checked()
            check_step(page, "wizard-5-subject-groups")
        elif step == "summary/":
            # what `missync preview SLUG FILE --json` says for the same file and settings, before Finish
            expected.update(cli_preview("willow", export)["summary"])
            counts = shown_counts(page)
            assert counts == expected
            assert counts["new_pupils"] == len(sample.pupils) and counts["new_staff"] == len(sample.staff)
            assert counts["errors"] == 0 and counts["possible_duplicates"] == 0
            expect(page.get_by_text("Year 3: Colours (Red54)")).to_be_visible()  # the choice was kept
            new_pupils = summary_row(page, "new_pupils")
            table = new_pupils.get_by_role("table")
            expect(table).to_be_hidden()
            new_pupils.locator("summary").click()  # the row's +
            expect(table).to_be_visible()
            listed = table.locator("tbody tr td:first-child").all_inner_texts()  # the Name column
            assert len(listed) == len(sample.pupils)
            assert set(listed) == set(names(sample.pupils))
            check_step(page, "wizard-6-summary")

    walk_to_summary(page, export, on_step=on_step)
    assert not Account.objects.filter(school=school).exists()  # nothing written before Finish

    page.get_by_role("button", name="Finish", exact=True).click()
    page.wait_for_url("**/manage/sync/jobs/*/")
    expect(h1(page)).to_have_text("MIS Sync Wizard: writing the sync")
    expect(page.get_by_role("progressbar", name="Sync progress")).to_be_visible()
    check_step(page, "wizard-7-progress")
    assert not Account.objects.filter(school=school).exists()
    gate.open()
    expect(h1(page)).to_have_text("Sync finished", timeout=60_000)  # the page polled until the job ended
    check_step(page, "wizard-8-result")
    assert result_counts(page) == expected
    expect(
        page.get_by_role("link", name=re.compile(r"^Download login details \(\d+ new pupils, CSV\)"))
    ).to_be_visible()
    job = SyncJob.objects.get(school=school)
    assert job.status == "done" and job.run is not None and job.run.summary == expected
    assert not uploads_left(wizard_settings, "willow")  # the upload is removed once written

    # pupils appear in their classes in Manage Users
    page.get_by_role("link", name="see your pupils in Manage Users").click()
    expect(h1(page)).to_have_text("Manage Users")
    for klass in ("3 Oak", "R Ash"):
        in_class = [p for p in sample.pupils if p.reg_group == klass]
        open_class(page, klass)
        expect(page.get_by_role("table", name=f"{len(in_class)} pupils in {klass}")).to_be_visible()
        listed = rowheaders(page)
        assert set(listed) == set(names(in_class)), klass
        for pupil in in_class[:3]:
            account = Account.objects.get(school=school, upn=pupil.upn)
            row = page.get_by_role("row").filter(
                has=page.get_by_role("rowheader", name=f"{pupil.forename} {pupil.surname}", exact=True)
            )
            expect(row.get_by_role("cell").first).to_have_text(account.username)
            expect(row).to_contain_text(klass)


# -- 2. a rerun a year later ---------------------------------------------------------------------------
def synced(school: Any, sample: SampleSchool, path: Path) -> None:
    """Set-up: the school as an earlier sync left it."""
    school.refresh_from_db()  # its revision, after what the browser did
    plan = preview(school, [str(write_oneroster(sample, path))]).plan
    apply_plan(school, plan, confirm_hold=True, actor="office@example.org", source=path.name)


def test_a_rerun_a_year_later_moves_pupils_after_the_hold_is_confirmed(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    school, email = new_school("hazel", "Hazel Primary School")
    first = generate_school(seed=62, name="Hazel Primary School", pupils=140)
    synced(school, first, tmp_path / "2026.zip")
    later = next_academic_year(first, seed=7)
    export = write_oneroster(later, tmp_path / "2027.zip")
    staying = {p.upn: p for p in later.pupils}
    # a pupil who stays and moves to a new class (every continuing pupil goes up a year)
    pupil = next(p for p in first.pupils if p.upn in staying and p.forename.isascii() and p.surname.isalpha())
    moved_to = staying[pupil.upn].reg_group
    username = Account.objects.get(school=school, upn=pupil.upn).username
    leaver = next(p for p in first.pupils if p.upn not in staying)

    sign_in(page, live_server.url, "hazel", email)
    open_wizard(page)
    walk_to_summary(page, export)
    counts = shown_counts(page)
    assert counts == cli_preview("hazel", export)["summary"]
    assert counts["moved"] > 0 and counts["leavers"] >= sum(1 for p in first.pupils if p.year == "Year 6")
    expect(page.get_by_role("heading", name="Held for review")).to_be_visible()
    reasons = page.locator(".held li").all_inner_texts()
    assert reasons and any("leav" in r.lower() or "archiv" in r.lower() for r in reasons), reasons
    moving = summary_row(page, "moved")
    moving.locator("summary").click()
    row = moving.get_by_role("row").filter(has_text=f"{pupil.forename} {pupil.surname}")
    expect(row).to_contain_text(username)
    expect(row).to_contain_text(moved_to)
    check_step(page, "wizard-rerun-summary-held")

    page.get_by_role("button", name="Finish", exact=True).click()  # without the confirmation
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Tick the box to confirm you have checked the summary")
    confirm = page.get_by_label("I have checked this summary and the export is complete")
    expect(confirm).to_have_attribute("aria-describedby", "confirm_hold-error")
    check_step(page, "wizard-rerun-hold-refused")
    assert not SyncJob.objects.filter(school=school).exists()
    assert Account.objects.get(school=school, upn=leaver.upn).status == "active"  # nothing written

    confirm.check()
    finish_and_wait(page)
    assert result_counts(page)["moved"] == counts["moved"]
    run = SyncRun.objects.filter(school=school, kind="sync").order_by("-id").first()
    assert run is not None and run.hold_confirmed and run.source == "2027.zip"

    open_class(page, moved_to)
    row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=f"{pupil.forename} {pupil.surname}", exact=True)
    )
    expect(row.get_by_role("cell").first).to_have_text(username)  # a continuing pupil keeps their login
    assert Account.objects.get(school=school, upn=pupil.upn).username == username
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage Users").click()
    search_pupils(page, leaver.surname)
    expect(
        page.get_by_role("rowheader", name=f"{leaver.forename} {leaver.surname}", exact=True)
    ).to_have_count(0)
    assert Account.objects.get(school=school, upn=leaver.upn).status == "archived"


# -- 3. possible duplicates ----------------------------------------------------------------------------
def test_a_hand_made_pupil_is_resolved_as_the_same_person_and_keeps_their_login(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    school, email = new_school("rowan", "Rowan Primary School")
    sample = generate_school(seed=63, name="Rowan Primary School", pupils=56)
    export = write_oneroster(sample, tmp_path / "rowan.zip")
    surnames = [p.surname for p in sample.pupils]
    pupil = next(p for p in sample.pupils if surnames.count(p.surname) == 1 and p.forename.isascii())
    account, _ = add_user(  # made by hand before the first sync: no UPN to match on
        school, forename=pupil.forename, surname=pupil.surname, year=pupil.year, class_name=pupil.reg_group
    )
    username, name = account.username, f"{pupil.forename} {pupil.surname}"

    sign_in(page, live_server.url, "rowan", email)
    open_wizard(page)
    walk_to_summary(page, export)
    counts = shown_counts(page)
    assert counts["possible_duplicates"] == 1 and counts == cli_preview("rowan", export)["summary"]
    duplicates = summary_row(page, "possible_duplicates")
    expect(duplicates).to_have_attribute("open", "")  # needs attention: open already
    expect(duplicates.locator("summary")).to_contain_text("(needs your attention)")
    decision = page.get_by_role(
        "group", name=f"Is {name} in the MIS the same person as the account {username}?"
    )
    expect(decision.get_by_label("Decide later")).to_be_checked()
    check_step(page, "wizard-duplicates")
    # a decision per row, saved; then "Resolve all duplicates" marks every one as the same person
    decision.get_by_label("Different person").check()
    page.get_by_role("button", name="Save decisions").click()
    expect(page.get_by_role("status")).to_contain_text("Your decisions are saved")
    expect(decision.get_by_label("Different person")).to_be_checked()
    expect(duplicates).to_contain_text("different person: a new account will be made")
    page.get_by_role("button", name="Resolve all duplicates").click()
    expect(page.get_by_role("status")).to_contain_text(
        "All possible duplicates are marked as the same person"
    )
    expect(decision.get_by_label("Same person")).to_be_checked()
    expect(duplicates).to_contain_text(f"same person: links to the existing account {username}")
    assert shown_counts(page) == counts
    finish_and_wait(page)
    assert result_counts(page)["new_pupils"] == len(sample.pupils) - 1  # linked, not made twice

    page.get_by_role("link", name="see your pupils in Manage Users").click()
    search_pupils(page, pupil.surname)
    rows = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("cell").first).to_have_text(username)
    account.refresh_from_db()
    assert account.upn == pupil.upn and account.source == "oneroster"  # now linked to the MIS record
    assert account.username == username
    assert Account.objects.filter(school=school, forename=pupil.forename, surname=pupil.surname).count() == 1


# -- 4. the error list -----------------------------------------------------------------------------------
def test_users_with_errors_are_listed_with_the_reason_and_the_fix(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    school, email = new_school("larch", "Larch Primary School")
    export = tmp_path / "larch-sims.csv"
    export.write_text(
        "Adno,Forename,Surname,Year,Reg Group,Email,Role\n"
        "7001,Pemberly,Quillfeather,Year 4,4 Birch,,Pupil\n"
        "7002,Tamsin,Noclassworth,Year 4,,,Pupil\n"
        "7003,Orrin,Nomailsby,,,,Staff\n"
        "7004,Wendeline,Hasmailton,,,whasmailton@larch.example.org,Staff\n",
        encoding="utf-8",
    )
    sign_in(page, live_server.url, "larch", email)
    open_wizard(page)
    walk_to_summary(page, export)
    counts = shown_counts(page)
    assert counts == cli_preview("larch", export)["summary"]
    assert counts["errors"] == 2 and counts["new_pupils"] == 1 and counts["new_staff"] == 1
    errors = summary_row(page, "errors")
    expect(errors).to_have_attribute("open", "")
    expect(errors.locator("summary")).to_contain_text("Users who will not be imported due to errors")
    table = errors.get_by_role("table")
    pupil = table.get_by_role("row").filter(has_text="Tamsin Noclassworth")
    # columns: name, role, why not imported, how to fix it in your MIS
    expect(pupil.get_by_role("cell").nth(2)).to_contain_text("has no registration group")
    expect(pupil.get_by_role("cell").nth(3)).to_contain_text("give the pupil a registration group")
    staff = table.get_by_role("row").filter(has_text="Orrin Nomailsby")
    expect(staff.get_by_role("cell").nth(1)).to_have_text("staff")
    expect(staff.get_by_role("cell").nth(2)).to_contain_text("has no email address")
    expect(staff.get_by_role("cell").nth(3)).to_contain_text("enter their work email address in the MIS")
    expect(table.get_by_role("row")).to_have_count(3)  # the header and the two people
    expect(page.get_by_text("2 users will not be imported due to errors")).to_be_visible()
    check_step(page, "wizard-errors")

    finish_and_wait(page)
    assert result_counts(page)["errors"] == 2
    assert sorted(Account.objects.filter(school=school).values_list("surname", flat=True)) == [
        "Hasmailton",
        "Quillfeather",
    ]


# -- 5. undo ----------------------------------------------------------------------------------------------
def test_undo_from_the_result_page_and_from_the_history_page(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    school, email = new_school("alder", "Alder Primary School")
    sample = generate_school(seed=64, name="Alder Primary School", pupils=56, staff=8)
    export = write_oneroster(sample, tmp_path / "alder.zip")
    sign_in(page, live_server.url, "alder", email)

    # the result page: the new accounts are gone again
    open_wizard(page)
    walk_to_summary(page, export)
    finish_and_wait(page)
    assert Account.objects.filter(school=school, role="pupil", status="active").count() == len(sample.pupils)
    run = SyncRun.objects.get(school=school, kind="sync")
    undo_confirm(page, "this sync")
    expect(page.get_by_role("status")).to_contain_text(f"Sync #{run.pk} was undone")
    expect(h1(page)).to_have_text(f"Sync #{run.pk}")
    assert not Account.objects.filter(school=school, status="active").exists()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage Users").click()
    expect(page.get_by_role("cell", name="No pupils yet.")).to_be_visible()

    # the history page: a later sync (a year on) is undone, and its leavers and moves are put back
    synced(school, sample, tmp_path / "2026.zip")
    later = next_academic_year(sample, seed=3)
    synced(school, later, tmp_path / "2027.zip")
    leaver = next(p for p in sample.pupils if p.year == "Year 6")
    assert Account.objects.get(school=school, upn=leaver.upn).status == "archived"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sync history").click()
    expect(h1(page)).to_have_text("Sync history")
    runs = page.get_by_role("table", name="Syncs and undos")
    expect(runs.get_by_role("row")).to_have_count(
        1 + 4
    )  # header; the wizard's sync, its undo, the set-up's two syncs
    newest = runs.get_by_role("row").nth(1)
    for shown in ("2027.zip", "office@example.org", "Moving class", "Leavers", "Applied (held, confirmed)"):
        expect(newest).to_contain_text(shown)
    expect(runs.get_by_role("row").nth(3)).to_contain_text("Undid sync")
    check_step(page, "sync-history")
    undo_confirm(page, "the last sync")
    expect(page.get_by_role("status")).to_contain_text("was undone")
    back = Account.objects.get(school=school, upn=leaver.upn)
    assert back.status == "active" and back.registration_class.name == leaver.reg_group
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage Users").click()
    search_pupils(page, leaver.surname)
    row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=f"{leaver.forename} {leaver.surname}", exact=True)
    )
    expect(row).to_contain_text(leaver.reg_group)  # restored, in their class again


# -- 7. a bad upload ---------------------------------------------------------------------------------------
def test_a_bad_upload_gets_a_clear_message_and_changes_nothing(
    live_server: Any, page: Any, tmp_path: Path, wizard_settings: Path
) -> None:
    school, email = new_school("poplar", "Poplar Primary School")
    notes = tmp_path / "class-notes.txt"
    notes.write_text("Remember the trip money\n", encoding="utf-8")
    broken = tmp_path / "oneroster-export.zip"
    broken.write_bytes(b"PK\x03\x04 this zip was cut short")
    sign_in(page, live_server.url, "poplar", email)
    open_wizard(page)
    start = page.url

    upload(page, notes)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("There is a problem")
    expect(alert).to_contain_text("class-notes.txt is not a file missync reads")
    field = page.get_by_label("MIS export", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    check_step(page, "wizard-bad-upload-txt")

    upload(page, broken)
    expect(page.get_by_role("alert")).to_contain_text(
        "The file could not be read: oneroster-export.zip: is not a zip file: expected a OneRoster CSV zip. "
        "Nothing was changed."
    )
    check_step(page, "wizard-bad-upload-zip")
    assert page.url == start
    expect(page.get_by_role("link", name="Continue with this file")).to_have_count(0)
    assert not uploads_left(wizard_settings, "poplar")
    assert (
        not Account.objects.filter(school=school).exists()
        and not SyncRun.objects.filter(school=school).exists()
    )
    page.goto(start + "usernames/")  # no step beyond the data source without an export
    page.wait_for_url(start)
