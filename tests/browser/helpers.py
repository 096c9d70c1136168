"""Steps the browser tests share: signing in, walking the MIS Sync Wizard, reading what a page shows.

Every locator is by role or label, as a person using a screen reader would find it, so a missing label or
a wrong role fails the test as well as the axe-core check.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from playwright.sync_api import expect

from missync.accounts.models import School
from missync.cli import main
from missync.report import ROW_LABELS
from missync.wizard.logins import create_login

from .conftest import axe_check, screenshot

PASSWORD = "correct-horse-battery-staple"
RESULT_TIMEOUT = 60_000  # ms: the sync job runs in a real background thread
LABEL_KEYS = {label: key for key, label in ROW_LABELS.items()}

# (step's URL part, its h1) in wizard order, after the data source.
STEPS = (
    ("usernames/", "MIS Sync Wizard: usernames"),
    ("passwords/", "MIS Sync Wizard: passwords"),
    ("year-groups/", "MIS Sync Wizard: year groups"),
    ("subject-groups/", "MIS Sync Wizard: subject groups"),
    ("summary/", "MIS Sync Wizard: summary"),
)


def new_school(slug: str, name: str) -> tuple[School, str]:
    """A school with one admin who can sign in, and no accounts yet."""
    school = School.objects.create(slug=slug, name=name)
    email = f"office@{slug}.example.org"
    create_login(school, email, PASSWORD, role="admin", name="Office Admin")
    return school, email


def sign_in(page: Any, base: str, slug: str, email: str) -> None:
    """Sign in on the school's own page as staff (email address and password)."""
    page.goto(f"{base}/{slug}/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base}/{slug}/manage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage Users")


def h1(page: Any) -> Any:
    return page.get_by_role("heading", level=1)


def open_wizard(page: Any) -> None:
    """From any signed-in page: the main navigation's Import/Sync link."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Import/Sync: MIS Sync Wizard"
    ).click()
    expect(h1(page)).to_have_text("MIS Sync Wizard: data source")


def upload(page: Any, *paths: Path) -> None:
    """Choose the export (and a staff spreadsheet) and press Upload and continue."""
    page.get_by_label("MIS export", exact=True).set_input_files(str(paths[0]))
    if len(paths) > 1:
        page.get_by_label("Staff spreadsheet (optional)").set_input_files(str(paths[1]))
    page.get_by_role("button", name="Upload and continue").click()


def press_next(page: Any, step: str, heading: str) -> None:
    page.get_by_role("button", name="Next", exact=True).click()
    page.wait_for_url(f"**/manage/sync/{step}")
    expect(h1(page)).to_have_text(heading)


def walk_to_summary(page: Any, export: Path, *, on_step: Callable[[int, str], None] | None = None) -> None:
    """Upload `export` and accept every step's suggestions up to the summary.

    `on_step(number, step)` runs on each step's page before Next (number 2 is usernames ... 6 summary)."""
    upload(page, export)
    page.wait_for_url("**/manage/sync/usernames/")
    expect(h1(page)).to_have_text(STEPS[0][1])
    for number, (step, _) in enumerate(STEPS, start=2):
        if on_step is not None:
            on_step(number, step)
        if step != "summary/":
            following, heading = STEPS[number - 1]
            press_next(page, following, heading)


def check_step(page: Any, name: str) -> None:
    """A reviewer's screenshot of the page, and the axe-core check."""
    screenshot(page, name)
    axe_check(page, name)


def shown_counts(page: Any) -> dict[str, int]:
    """The count on each of the summary's rows, by summary key (as `missync preview --json` names them)."""
    pairs = page.eval_on_selector_all(
        "ul.summary-rows > li",
        """items => items.map(li => [
            li.querySelector('.row-label').firstChild.textContent.trim(),
            Number(li.querySelector('.count').textContent.trim()),
        ])""",
    )
    return {LABEL_KEYS[label]: count for label, count in pairs}


def result_counts(page: Any) -> dict[str, int]:
    """The result page's "What changed" table, by summary key."""
    table = page.get_by_role("region", name="What changed").get_by_role("table")
    pairs = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent.trim(), Number(r.cells[1].textContent.trim())])"
    )
    return {LABEL_KEYS[label]: count for label, count in pairs}


def summary_row(page: Any, key: str) -> Any:
    """One summary row's disclosure (`<details>`): its `+` summary line and the people it lists."""
    return page.locator(f"details#row-{key}")


def cli_preview(slug: str, *paths: Path) -> dict[str, Any]:
    """What `missync preview SLUG FILE --json` prints for the same file and the school's settings."""
    result = CliRunner().invoke(main, ["preview", slug, *map(str, paths), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def finish_and_wait(page: Any) -> None:
    """Press Finish and wait (the progress page polls) for the result page."""
    page.get_by_role("button", name="Finish", exact=True).click()
    expect(h1(page)).to_have_text("Sync finished", timeout=RESULT_TIMEOUT)


def undo_confirm(page: Any, what: str) -> None:
    page.get_by_label(f"Yes, undo {what}").check()
    page.get_by_role("button", name=f"Undo {what}", exact=True).click()


def rowheaders(page: Any, scope: Any | None = None) -> list[str]:
    """The names in a table's row headers (Manage Users lists people by name in the first column)."""
    return [text.strip() for text in (scope or page).get_by_role("rowheader").all_inner_texts()]


def search_pupils(page: Any, text: str) -> None:
    """Type into the Pupils tab's search box and wait for the table to show the matches."""
    search = page.get_by_role("search", name="Search and filter pupils")
    search.get_by_role("searchbox").fill(text)
    search.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"[?&]q="))


class Gate:
    """Holds the background sync job before it writes, so its progress page can be looked at.

    `open()` lets it write; `cancel()` (at the end of the test, if still held) makes it fail without
    writing, so no job thread writes while the test database is being emptied."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.cancelled = False

    def wrap(self, apply: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any, **kwargs: Any) -> Any:
            self.event.wait(timeout=30)
            if self.cancelled or not self.event.is_set():
                raise RuntimeError("the test ended before the job was let through")
            return apply(*args, **kwargs)

        return gated

    def open(self) -> None:
        self.event.set()

    def cancel(self) -> None:
        if not self.event.is_set():
            self.cancelled = True
            self.event.set()


def names(people: Sequence[Any]) -> list[str]:
    return [f"{p.forename} {p.surname}" for p in people]
