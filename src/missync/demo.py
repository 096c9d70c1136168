"""`missync demo`: a generated two-form-entry primary school, ready to sync in the browser.

Everything is made up (no real people). The demo school is recreated on each run so it always starts
from the same place; other schools in the database are left alone. By default the web app is then
served; `--no-serve` instead previews, applies and prints the summary in the terminal.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from missync.accounts.apply import apply_plan
from missync.accounts.models import School
from missync.accounts.services import list_users, preview
from missync.report import print_plan
from missync.sample import (
    SampleSchool,
    generate_school,
    next_academic_year,
    write_oneroster,
    write_spreadsheet,
)

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin@demo.example.org"

Echo = Callable[[str], object]


@dataclass
class Demo:
    school: School
    sample: SampleSchool
    exports: dict[str, Path]
    admin_email: str
    admin_password: str


def make_demo(echo: Echo, *, seed: int = 2026) -> Demo:
    """Recreate the demo school and its admin, and write this year's and next year's MIS exports."""
    from django.contrib.auth import get_user_model

    from missync.wizard.logins import create_login

    sample = generate_school(seed, pupils=420)
    folder = Path(settings.HOME) / "demo"
    exports = {
        "SIMS-style CSV, this year": write_spreadsheet(sample, folder / "oakfield-sims-export.csv")[0],
        "OneRoster zip, this year": write_oneroster(sample, folder / "oakfield-oneroster.zip"),
        "OneRoster zip, next academic year": write_oneroster(
            next_academic_year(sample, seed + 1), folder / "oakfield-oneroster-next-year.zip"
        ),
    }
    School.objects.filter(slug=DEMO_SLUG).delete()
    get_user_model().objects.filter(username__startswith=f"{DEMO_SLUG}/").delete()
    school = School.objects.create(slug=DEMO_SLUG, name=sample.name)
    password = "demo-" + secrets.token_urlsafe(9)
    create_login(school, DEMO_ADMIN, password, role="admin", name="Demo Admin")
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    echo(f"Demo school '{school.name}' (slug {DEMO_SLUG}) on {engine}.")
    echo(f"Generated MIS export: {len(sample.pupils)} pupils, {len(sample.staff)} staff (all made up).")
    for label, path in exports.items():
        echo(f"  {label}: {path}")
    echo("")
    return Demo(school, sample, exports, DEMO_ADMIN, password)


def run_demo(
    echo: Echo, *, seed: int = 2026, serve: bool = True, host: str = "127.0.0.1", port: int = 8000
) -> None:
    """Make the demo; then serve the web app, or (serve=False) sync it here and print what happened."""
    demo = make_demo(echo, seed=seed)
    first = str(next(iter(demo.exports.values())))
    result = preview(demo.school, [first])
    print_plan(result.plan, echo)
    echo("")
    if serve:
        from waitress import serve as waitress_serve

        from missync.providers.fake_wonde import FakeWonde
        from missync.wsgi import application

        # A fake Wonde on loopback serving the same made-up school: register, approve and sync live,
        # with no internet. The "school" approves the access request a few seconds after it is made.
        wonde = FakeWonde(demo.sample, approved=False, approve_after=5).start()
        if not settings.MISSYNC_BASE_URL:  # login cards and activation emails point at this server
            settings.MISSYNC_BASE_URL = f"http://{host}:{port}"
        echo("A fake Wonde serves the same school for live syncing (wizard: Data source → Wonde):")
        echo(f"  API address: {wonde.base_url}")
        echo(f"  Wonde school id: {wonde.school_id}")
        echo(f"  Token: {wonde.token}")
        echo("")

        echo(
            f"Open http://{host}:{port}/{DEMO_SLUG}/ and sign in as "
            f"{demo.admin_email} / {demo.admin_password}"
        )
        echo("Then Import/Sync → MIS Sync Wizard: upload one of the exports above, or read the fake Wonde.")
        from missync.credentials.activation import email_destination

        echo(f"New staff's activation emails are {email_destination()}. Ctrl+C stops the demo.")
        waitress_serve(application, host=host, port=port, threads=8, ident="missync")
        return
    run = apply_plan(demo.school, result.plan, actor="demo", source=result.roster.description or first)
    print_plan(result.plan, echo, applied=True)
    echo(f"Applied as sync #{run.pk}.")
    pupils = [row for row in list_users(demo.school, show_passwords=True) if row["role"] == "pupil"]
    echo("")
    echo("A few of the new pupils' logins:")
    for row in pupils[:5]:
        echo(
            f"  {row['forename']} {row['surname']} ({row['registration_group']}): "
            f"{row['username']} / {row['password']}"
        )
    again = preview(demo.school, [first]).plan.summary()
    others = sum(v for k, v in again.items() if k != "unchanged")
    echo("")
    echo(f"Previewing the same export again: {again['unchanged']} unchanged, {others} other lines.")
    echo(f"Web app (`missync serve`): /{DEMO_SLUG}/, sign in as {demo.admin_email} / {demo.admin_password}")
