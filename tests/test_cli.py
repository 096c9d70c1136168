"""The `missync` command: its outputs, JSON shapes and exit codes (0 done, 1 input error, 2 usage, 3 held)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.core import mail

from missync.cli import main
from missync.core.passwords import COLOURS
from missync.core.plan import SUMMARY_KEYS
from missync.sample import generate_school, write_oneroster, write_spreadsheet


@pytest.fixture
def cli(db: None) -> CliRunner:
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.stderr)
    return result.stdout


@pytest.fixture
def export(tmp_path: Path) -> str:
    return str(write_spreadsheet(generate_school(seed=21), tmp_path / "export.csv")[0])


def test_preview_apply_users_undo(cli: CliRunner, export: str) -> None:
    run(cli, "school", "add", "oak", "--name", "Oakfield Primary")
    document = json.loads(run(cli, "preview", "oak", export, "--json"))
    assert set(document["summary"]) == set(SUMMARY_KEYS)
    assert all(isinstance(v, int) for v in document["summary"].values())
    assert set(document["lines"]) == set(SUMMARY_KEYS)
    assert document["held"] is False and document["hold_reasons"] == []
    assert document["summary"]["new_pupils"] == len(document["lines"]["new_pupils"]) > 300
    assert "password" not in json.dumps(document["lines"])  # a review document holds no passwords

    applied = json.loads(run(cli, "apply", "oak", export, "--json"))
    assert applied["summary"] == document["summary"]
    # each new member of staff with an email is sent an activation link
    assert len(mail.outbox) == document["summary"]["new_staff"]
    assert all("/oak/activate/" in message.body for message in mail.outbox)
    users = json.loads(run(cli, "users", "oak", "--json", "--show-passwords"))
    assert len(users) == document["summary"]["new_pupils"] + document["summary"]["new_staff"]
    pupil = next(u for u in users if u["role"] == "pupil")
    assert set(pupil) == {
        "username",
        "forename",
        "surname",
        "role",
        "year_group",
        "registration_group",
        "groups",
        "upn",
        "mis_id",
        "email",
        "status",
        "password",
    }
    assert pupil["password"] and pupil["status"] == "active" and pupil["registration_group"]
    assert all("password" not in u for u in json.loads(run(cli, "users", "oak", "--json")))

    again = json.loads(run(cli, "preview", "oak", export, "--json"))
    assert again["summary"]["unchanged"] == len(users)
    assert sum(again["summary"].values()) == len(users)

    undone = json.loads(run(cli, "undo", "oak", "--json"))
    assert undone["summary"] == document["summary"]
    assert json.loads(run(cli, "users", "oak", "--json")) == []


def test_settings_are_remembered_and_used(cli: CliRunner, export: str) -> None:
    run(cli, "school", "add", "oak", "--name", "Oakfield Primary")
    out = run(
        cli,
        "school",
        "settings",
        "oak",
        "--pupil-usernames",
        "full-name",
        "--password",
        "Year 3=colours",
        "--map-year",
        "Y3 Mixed=Year 3",
        "--subject-groups",
        "Choir;Y5 Maths Set 1",
        "--json",
    )
    settings = json.loads(out)
    assert settings["pupil_usernames"] == "full-name"
    assert settings["passwords"] == {"Year 3": "colours"}
    assert settings["year_map"] == {"Y3 Mixed": "Year 3"}
    assert settings["subject_groups"] == ["Choir", "Y5 Maths Set 1"]
    run(cli, "apply", "oak", export)
    users = json.loads(run(cli, "users", "oak", "--json", "--show-passwords"))
    year3 = [u for u in users if u["year_group"] == "Year 3"]
    assert year3 and all(u["username"].startswith(u["forename"][:1]) for u in year3)
    assert all(
        any(u["password"].startswith(colour) for colour in COLOURS) for u in year3
    )  # every Year 3 pupil got the chosen format
    pupil_groups = {g for u in users if u["role"] == "pupil" for g in u["groups"]}
    # only the chosen subject groups were imported (the export has others too)
    assert pupil_groups == {"Choir", "Y5 Maths Set 1"}


def test_bad_input_is_one_clear_line_and_exit_1(cli: CliRunner, tmp_path: Path) -> None:
    run(cli, "school", "add", "oak", "--name", "Oakfield Primary")
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    result = cli.invoke(main, ["preview", "oak", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "expected" in result.stderr
    result = cli.invoke(main, ["preview", "nowhere", str(bad)])
    assert result.exit_code == 1 and "missync school add nowhere" in result.stderr
    result = cli.invoke(main, ["school", "settings", "oak", "--pupil-usernames", "shouty"])
    assert result.exit_code == 1 and "forename-surname-initial" in result.stderr
    result = cli.invoke(main, ["school", "settings", "oak", "--map-year", "Y7"])
    assert result.exit_code == 1 and "NAME=VALUE" in result.stderr


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    assert cli.invoke(main, ["frobnicate"]).exit_code == 2
    assert cli.invoke(main, ["preview"]).exit_code == 2
    assert cli.invoke(main, ["apply", "oak", "x.csv", "--duplicates", "maybe"]).exit_code == 2


def test_a_held_plan_exits_3_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    sample = generate_school(seed=22)
    run(cli, "school", "add", "oak", "--name", "Oakfield Primary")
    run(cli, "apply", "oak", str(write_oneroster(sample, tmp_path / "full.zip")))
    sample.pupils = sample.pupils[:50]
    partial = str(write_oneroster(sample, tmp_path / "partial.zip"))
    result = cli.invoke(main, ["apply", "oak", partial, "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["held"] is True
    assert len(json.loads(run(cli, "users", "oak", "--json"))) > 300
    run(cli, "apply", "oak", partial, "--confirm-hold")
    assert len(json.loads(run(cli, "users", "oak", "--json", "--archived"))) > 300


def test_user_add_and_possible_duplicate(cli: CliRunner, export: str) -> None:
    run(cli, "school", "add", "oak", "--name", "Oakfield Primary")
    sample = generate_school(seed=21)
    pupil = sample.pupils[3]
    out = run(
        cli,
        "user",
        "add",
        "oak",
        "--forename",
        pupil.forename,
        "--surname",
        pupil.surname,
        "--year",
        pupil.year,
        "--class",
        pupil.reg_group,
        "--dob",
        pupil.dob.isoformat(),
    )
    assert "Added pupil" in out
    document = json.loads(run(cli, "preview", "oak", export, "--json"))
    assert document["summary"]["possible_duplicates"] == 1
    assert document["lines"]["possible_duplicates"][0]["decision"] == "skip"
    linked = json.loads(run(cli, "apply", "oak", export, "--json", "--duplicates", "link"))
    assert linked["lines"]["possible_duplicates"][0]["decision"] == "link"
    users = json.loads(run(cli, "users", "oak", "--json"))
    assert len(users) == len(sample.pupils) + len(sample.staff)


def test_demo_runs_on_a_fresh_home(tmp_path: Path) -> None:
    """The README's first command, end to end in a fresh process on the embedded SQLite default."""
    env = {**os.environ, "MISSYNC_HOME": str(tmp_path / "home"), "DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "missync.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "New pupils" in done.stdout and "Applied as sync" in done.stdout
    assert (tmp_path / "home" / "missync.sqlite3").exists()
    assert oct((tmp_path / "home" / "credential.key").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "home").stat().st_mode & 0o777) == "0o700"
    listed = subprocess.run(
        [sys.executable, "-m", "missync.cli", "users", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0
    assert 380 <= sum(1 for u in json.loads(listed.stdout) if u["role"] == "pupil") <= 440
    broken = subprocess.run(
        [sys.executable, "-m", "missync.cli", "preview", "demo", str(tmp_path / "missing.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert broken.returncode == 1
    assert "Traceback" not in broken.stderr and broken.stderr.startswith("missync: error:")
