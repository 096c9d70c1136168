"""`missync connect`, `missync connection status|test`, and `missync preview SLUG wonde`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from missync.accounts.models import School
from missync.cli import main
from missync.connections.cli import COMMANDS
from missync.connections.models import Connection
from missync.providers.fake_wonde import FakeWonde
from missync.sample import generate_school


@pytest.fixture
def cli(db: None) -> Iterator[CliRunner]:
    added = [command for command in COMMANDS if command.name not in main.commands]
    for command in added:
        main.add_command(command)
    yield CliRunner()
    for command in added:
        main.commands.pop(command.name or "", None)


@pytest.fixture
def wonde() -> Iterator[FakeWonde]:
    with FakeWonde(generate_school(seed=81), approved=False) as fake:
        yield fake


def run(cli: CliRunner, *args: str, code: int = 0, stdin: str | None = None) -> str:
    result = cli.invoke(main, list(args), input=stdin)
    assert result.exit_code == code, (result.output, result.stderr)
    return result.output


def test_connect_approve_status_test_and_preview(cli: CliRunner, wonde: FakeWonde) -> None:
    run(cli, "school", "add", "oak", "--name", "Oakfield Primary")
    out = run(
        cli,
        "connect",
        "oak",
        "wonde",
        "--school-id",
        wonde.school_id,
        "--base-url",
        wonde.base_url,
        "--contact-name",
        "Office Manager",
        "--contact-email",
        "office@school.example.org",
        "--token-stdin",
        stdin=wonde.token + "\n",
    )
    assert "Registered oak with wonde." in out and "wonde: pending" in out
    assert wonde.token not in out
    assert wonde.access_requests[0]["contacts"][0]["first_name"] == "Office"
    secret = Connection.objects.get(school__slug="oak").secret
    assert wonde.token not in secret

    run(cli, "connection", "test", "oak", "wonde", code=1)
    wonde.approve(missing=["students.upn"])
    statuses = json.loads(run(cli, "connection", "status", "oak", "--json"))
    assert [s["state"] for s in statuses] == ["missing_permissions"]
    assert statuses[0]["can_sync"] is True and "token" not in json.dumps(statuses[0]["settings"])
    text = run(cli, "connection", "status", "oak", "wonde")
    assert "missing optional permission students.upn: no UPNs: more possible duplicates" in text
    assert "connected" in run(cli, "connection", "test", "oak", "wonde")

    document = json.loads(run(cli, "preview", "oak", "wonde", "--json"))
    assert document["summary"]["new_pupils"] > 300 and document["source"] == "wonde"


def test_secrets_never_come_from_the_command_line(cli: CliRunner) -> None:
    School.objects.create(slug="oak", name="Oak")
    out = run(cli, "connect", "oak", "wonde", "--school-id", "A1", "--token", "abc", code=2)
    assert "No such option" in out
    out = run(cli, "connect", "oak", "wonde", "--school-id", "A1", "--token-stdin", stdin="\n", code=2)
    assert "no token was given" in out


def test_errors_are_one_line(cli: CliRunner, wonde: FakeWonde) -> None:
    School.objects.create(slug="oak", name="Oak")
    result = cli.invoke(main, ["connection", "status", "oak"])
    assert result.exit_code == 1 and "has no connection" in result.stderr
    result = cli.invoke(main, ["preview", "oak", "xporter"])
    assert result.exit_code == 1 and "has no xporter connection" in result.stderr
    stdin = wonde.token + "\n"
    base = ["connect", "oak", "wonde", "--school-id", wonde.school_id, "--base-url", wonde.base_url]
    run(cli, *base, "--no-request-access", "--token-stdin", stdin=stdin)
    wonde.rotate_token()
    result = cli.invoke(main, ["preview", "oak", "wonde"])
    assert result.exit_code == 1
    assert "the token was rejected (rotated or revoked?)" in result.stderr
    assert "nothing was changed" in result.stderr and "Traceback" not in result.output
