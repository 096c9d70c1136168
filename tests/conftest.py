"""Shared test set-up: every test that touches the database is marked `store`.

The README's test command runs the whole suite on SQLite, then the `store` tests again on PostgreSQL.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Keep the secrets files and any SQLite file of the tests out of the user's home.
os.environ.setdefault("MISSYNC_HOME", tempfile.mkdtemp(prefix="missync-test-home-"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(fixtures):
            item.add_marker(pytest.mark.store)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared sample data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA
