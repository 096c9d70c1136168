"""Every command and setting is documented in the README (as datasette checks its own)."""

from __future__ import annotations

import re
from pathlib import Path

from missync.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SOURCE = Path(__file__).resolve().parents[1] / "src" / "missync"
SETTINGS = "".join(
    (SOURCE / name).read_text() for name in ("settings.py", "credentials/mail_settings.py", "cli.py")
)


def test_every_command_is_in_the_readme() -> None:
    missing = [name for name in main.commands if f"missync {name}" not in README]
    assert not missing, f"commands not in README.md: {missing}"


def test_every_environment_setting_is_in_the_readme() -> None:
    variables = set(re.findall(r"\"(MISSYNC_[A-Z_]+|DATABASE_URL)\"", SETTINGS))
    assert {"DATABASE_URL", "MISSYNC_HOME", "MISSYNC_CREDENTIAL_KEY"} <= variables
    missing = sorted(v for v in variables if f"`{v}`" not in README)
    assert not missing, f"settings not in README.md: {missing}"
