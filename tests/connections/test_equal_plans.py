"""The same made-up school read through Wonde, Xporter, OneRoster CSV and a spreadsheet plans the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from missync.accounts.models import School
from missync.accounts.services import preview
from missync.connections.services import register
from missync.core.plan import Plan
from missync.providers.fake_wonde import FakeWonde
from missync.providers.fake_xporter import FakeXporter
from missync.sample import generate_school, write_oneroster, write_spreadsheet


def shape(plan: Plan) -> dict[str, Any]:
    """What must be equal whichever source: the summary, each person's username, the class names."""
    usernames = sorted((change.after.display_name, change.after.username) for change in plan.people)
    classes = sorted((change.after.name, change.after.kind) for change in plan.classes)
    return {"summary": plan.summary(), "usernames": usernames, "classes": classes}


@pytest.mark.django_db
def test_every_source_gives_the_same_plan(tmp_path: Path) -> None:
    sample = generate_school(seed=71)
    shapes: dict[str, dict[str, Any]] = {}

    def plan_for(slug: str, sources: list[str]) -> None:
        school = School.objects.create(slug=slug, name=sample.name)
        shapes[slug] = shape(preview(school, sources).plan)

    spreadsheet = write_spreadsheet(sample, tmp_path / "export.csv")
    plan_for("spreadsheet", [str(path) for path in spreadsheet])
    plan_for("oneroster", [str(write_oneroster(sample, tmp_path / "oneroster.zip"))])
    with FakeWonde(sample) as wonde:
        school = School.objects.create(slug="wonde", name=sample.name)
        register(
            school, "wonde", {"school_id": wonde.school_id, "base_url": wonde.base_url, "secret": wonde.token}
        )
        shapes["wonde"] = shape(preview(school, ["wonde"]).plan)
    with FakeXporter(sample) as xporter:
        school = School.objects.create(slug="xporter", name=sample.name)
        settings = {
            "establishment": xporter.establishment,
            "app_id": xporter.app_id,
            "secret": xporter.secret,
        }
        register(school, "xporter", settings | {"base_url": xporter.base_url})
        shapes["xporter"] = shape(preview(school, ["xporter"]).plan)

    reference = shapes["spreadsheet"]
    assert reference["summary"]["new_pupils"] == len(sample.pupils)
    assert reference["summary"]["new_staff"] == len(sample.staff)
    assert reference["summary"]["errors"] == 0
    for source, found in shapes.items():
        assert found["summary"] == reference["summary"], source
        assert found["usernames"] == reference["usernames"], source
        assert found["classes"] == reference["classes"], source
