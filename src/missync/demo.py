"""`missync demo`: a generated two-form-entry primary school, previewed, synced and summarised.

Everything is made up (no real people). The demo school is recreated on each run so it always starts
from the same place; other schools in the database are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from missync.accounts.apply import apply_plan
from missync.accounts.models import School
from missync.accounts.services import list_users, preview
from missync.report import print_plan
from missync.sample import generate_school, write_oneroster, write_spreadsheet

DEMO_SLUG = "demo"


def run_demo(echo: Callable[[str], object], *, seed: int = 2026) -> School:
    """Make the demo school, write its MIS export, preview it, apply it and print what happened."""
    sample = generate_school(seed)
    folder = Path(settings.HOME) / "demo"
    spreadsheet = write_spreadsheet(sample, folder / "oakfield-sims-export.csv")
    oneroster = write_oneroster(sample, folder / "oakfield-oneroster.zip")

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    School.objects.filter(slug=DEMO_SLUG).delete()
    school = School.objects.create(slug=DEMO_SLUG, name=sample.name)
    echo(f"Demo school '{school.name}' (slug {DEMO_SLUG}) on {engine}.")
    echo(f"Generated MIS export: {len(sample.pupils)} pupils, {len(sample.staff)} staff")
    echo(f"  SIMS-style CSV: {spreadsheet[0]}")
    echo(f"  OneRoster zip:  {oneroster}")
    echo("")

    result = preview(school, [str(path) for path in spreadsheet])
    print_plan(result.plan, echo)
    echo("")
    run = apply_plan(school, result.plan, actor="demo", source=result.roster.description or "demo export")
    print_plan(result.plan, echo, applied=True)
    echo(f"Applied as sync #{run.pk}.")

    pupils = [row for row in list_users(school, show_passwords=True) if row["role"] == "pupil"]
    echo("")
    echo("A few of the new pupils' logins:")
    for row in pupils[:5]:
        echo(
            f"  {row['forename']} {row['surname']} ({row['registration_group']}): "
            f"{row['username']} / {row['password']}"
        )
    again = preview(school, [str(path) for path in spreadsheet]).plan.summary()
    echo("")
    echo(
        f"Previewing the same export again changes nothing: {again['unchanged']} unchanged, "
        f"{sum(v for k, v in again.items() if k != 'unchanged')} other lines."
    )
    echo(
        "Try: missync users demo --show-passwords | missync preview demo "
        + str(oneroster)
        + " | missync undo demo"
    )
    return school
