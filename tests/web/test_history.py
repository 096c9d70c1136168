"""The sync history: every run with who, when, source and counts; a run's report on a page and as CSV;
undoing from the wizard's result page and from the history, and the clear refusals."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from missync.accounts.apply import apply_plan
from missync.accounts.models import Account, SyncRun
from missync.accounts.services import add_user, preview
from missync.report import ROW_LABELS
from missync.sample import next_academic_year, write_spreadsheet
from tests.store.helpers import school_state

from .conftest import SyncedSchool
from .test_wizard import FreshSchool, finish, walk_to_summary

HISTORY = "/oak/manage/sync/history/"


@pytest.fixture(autouse=True)
def uploads_and_inline_jobs(settings: Any, tmp_path: Path) -> None:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.MISSYNC_SYNC_JOBS_INLINE = True


@pytest.fixture
def birch(db: None, tmp_path: Path) -> FreshSchool:
    return FreshSchool("birch", 43, tmp_path)


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store" and "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_history_lists_every_run_with_who_when_source_and_counts(birch: FreshSchool) -> None:
    finish(birch, walk_to_summary(birch, birch.oneroster(name="spring-export.zip")))
    run = SyncRun.objects.get(school=birch.school)
    page = birch.client.get("/birch/manage/sync/history/")
    assert page.status_code == 200 and page.content.count(b"<h1") == 1
    text = page.content.decode()
    assert f"Sync #{run.pk}" in text and birch.admin_email in text and "spring-export.zip" in text
    assert f"New pupils: {len(birch.sample.pupils)}" in text and "Applied" in text
    assert f'href="/birch/manage/sync/history/{run.pk}/"' in text


def test_a_runs_page_and_csv_report_hold_every_line(oak: SyncedSchool, admin: Client, tmp_path: Path) -> None:
    later = next_academic_year(oak.sample, seed=9)
    export = [str(p) for p in write_spreadsheet(later, tmp_path / "next.csv")]
    plan = preview(oak.school, export).plan
    run = apply_plan(oak.school, plan, confirm_hold=True, actor="head@oak.example.org", source="next.csv")
    page = admin.get(f"{HISTORY}{run.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for label in ROW_LABELS.values():
        assert label in text
    moved = plan.lines()["moved"][0]
    assert escape(moved["name"]) in text and escape(moved["change"]) in text
    assert "Why it was held for review" in text and "held for review and confirmed" in text

    rows = csv_rows(admin.get(f"{HISTORY}{run.pk}/report.csv"))
    assert rows[0][:3] == ["Line", "Name or class", "Username"]
    by_line: dict[str, int] = {}
    for row in rows[1:]:
        by_line[row[0]] = by_line.get(row[0], 0) + 1
    summary = plan.summary()
    for key in ("new_pupils", "moved", "leavers", "new_classes", "removed_classes"):
        assert by_line.get(ROW_LABELS[key], 0) == summary[key], key
    assert ROW_LABELS["unchanged"] not in by_line  # counted, not listed, in the history


def test_errors_and_problems_are_in_the_report(birch: FreshSchool, tmp_path: Path) -> None:
    path = tmp_path / "everyone.csv"
    path.write_text(
        "Adno,Forename,Surname,Year,Reg Group,Email,Role\n"
        "7001,Testa,Roster,Year 4,4 Elm,,Pupil\n"
        "7002,Nomail,Madeup,,,,Staff\n",
        encoding="utf-8",
    )
    finish(birch, walk_to_summary(birch, path))
    run = SyncRun.objects.get(school=birch.school)
    page = birch.client.get(f"/birch/manage/sync/history/{run.pk}/").content.decode()
    assert "Nomail Madeup" in page and "has no email address" in page
    rows = csv_rows(birch.client.get(f"/birch/manage/sync/history/{run.pk}/report.csv"))
    error = next(row for row in rows if row[0] == ROW_LABELS["errors"])
    assert error[1] == "Nomail Madeup" and "email" in error[6] and "work email address" in error[7]


def test_undo_from_the_result_page(birch: FreshSchool) -> None:
    response = finish(birch, walk_to_summary(birch, birch.oneroster()))
    result = birch.client.get(response["Location"])
    run = SyncRun.objects.get(school=birch.school)
    undo_url = f"/birch/manage/sync/history/{run.pk}/undo/"
    assert b"Undo this sync" in result.content and undo_url.encode() in result.content
    assert Account.objects.filter(school=birch.school).exists()

    unconfirmed = birch.client.post(undo_url)
    assert unconfirmed.status_code == 302
    assert b"tick the box to confirm" in birch.client.get(unconfirmed["Location"]).content
    assert SyncRun.objects.get(pk=run.pk).status == "applied"

    response = birch.client.post(undo_url, {"confirm": "yes"})
    assert response["Location"] == f"/birch/manage/sync/history/{run.pk}/"
    page = birch.client.get(response["Location"])
    assert f"Sync #{run.pk} was undone".encode() in page.content and b"Undone by" in page.content
    assert not Account.objects.filter(school=birch.school).exists()
    assert SyncRun.objects.get(pk=run.pk).status == "undone"
    undo = SyncRun.objects.get(school=birch.school, kind="undo")
    assert undo.actor == birch.admin_email
    assert csv_rows(birch.client.get(f"/birch/manage/sync/history/{run.pk}/logins.csv")) == [
        ["Name", "Class", "Username", "Password"]
    ]
    again = birch.client.post(undo_url, {"confirm": "yes"})
    assert b"it has already been undone" in birch.client.get(again["Location"]).content


def test_undo_the_last_sync_from_the_history(oak: SyncedSchool, admin: Client, tmp_path: Path) -> None:
    first = SyncRun.objects.get(school=oak.school)
    later = next_academic_year(oak.sample, seed=3)
    export = [str(p) for p in write_spreadsheet(later, tmp_path / "later.csv")]
    before_second = school_state(oak.school)
    second = apply_plan(oak.school, preview(oak.school, export).plan, confirm_hold=True)
    page = admin.get(HISTORY)
    assert f"sync #{second.pk}".encode() in page.content and b"Undo the last sync" in page.content

    # only the last sync can be undone from its own page
    refused = admin.post(f"{HISTORY}{first.pk}/undo/", {"confirm": "yes"})
    message = admin.get(refused["Location"]).content
    assert f"only the last sync can be undone, and sync #{second.pk} came after it".encode() in message

    response = admin.post(f"{HISTORY}undo/", {"confirm": "yes"})
    assert response["Location"] == f"{HISTORY}{second.pk}/"
    assert school_state(oak.school) == before_second
    # then the sync before it, and then there is nothing left to undo
    admin.post(f"{HISTORY}undo/", {"confirm": "yes"})
    assert not Account.objects.filter(school=oak.school).exists()
    nothing = admin.post(f"{HISTORY}undo/", {"confirm": "yes"})
    assert nothing["Location"] == HISTORY
    page = admin.get(HISTORY)
    assert b"Nothing was undone: there is no applied sync to undo" in page.content
    assert b"There is no sync to undo." in page.content


def test_undo_refuses_clearly_after_a_manual_change(oak: SyncedSchool, admin: Client) -> None:
    add_user(oak.school, forename="Handmade", surname="Pupilname", year="Year 2")
    before = school_state(oak.school)
    page = admin.get(HISTORY)
    assert b"accounts have changed since that sync" in page.content
    response = admin.post(f"{HISTORY}undo/", {"confirm": "yes"})
    text = admin.get(response["Location"]).content
    assert b"Nothing was undone: the school&#x27;s accounts changed after the last sync" in text
    assert school_state(oak.school) == before
    assert SyncRun.objects.get(school=oak.school).status == "applied"


def test_the_history_needs_a_post_and_a_confirmation_to_undo(oak: SyncedSchool, admin: Client) -> None:
    before = school_state(oak.school)
    assert admin.get(f"{HISTORY}undo/").status_code == 405
    response = admin.post(f"{HISTORY}undo/")
    assert b"tick the box to confirm" in admin.get(response["Location"]).content
    assert school_state(oak.school) == before


def test_a_missing_run_is_404(oak: SyncedSchool, admin: Client) -> None:
    assert admin.get(f"{HISTORY}999999/").status_code == 404
    assert admin.get(f"{HISTORY}999999/report.csv").status_code == 404
    assert admin.post(f"{HISTORY}999999/undo/", {"confirm": "yes"}).status_code == 404
