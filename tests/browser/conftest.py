"""Browser tests: real Chromium (Debian's package) driven by Playwright against Django's live server.

`scripts/test` installs Chromium when it is missing. Screenshots go to `test-output/screenshots/` so a
reviewer can look at every wizard step; `axe_check` runs axe-core and fails on serious or critical
violations.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it are
# still plain synchronous code, so Django's async-safety guard does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("MISSYNC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run scripts/test, which installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page at tablet width (768 px), so every flow is checked where schools use it."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-output/screenshots/ for reviewers."""
    path = OUTPUT / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_check(page: Any, name: str) -> None:
    """Run axe-core on the page; fail on any serious or critical violation (and keep the report)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    report = OUTPUT / "axe" / f"{name}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(results.generate_report())
    assert not violations, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} on {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    )
