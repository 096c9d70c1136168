"""Fixtures for connection tests: a school, and HTTP options that never really wait."""

from __future__ import annotations

import pytest

from missync.accounts.models import School
from missync.connections import services
from missync.sources.http import HttpOptions, Progress


@pytest.fixture(autouse=True)
def fast_http(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Provider calls retry once, time out after 0.3 s and record their waits instead of sleeping."""
    sleeps: list[float] = []

    def options(progress: Progress | None = None) -> HttpOptions:
        return HttpOptions(
            sleep=sleeps.append, timeout=0.3, connect_timeout=0.5, retries=1, progress=progress
        )

    monkeypatch.setattr(services, "http_options", options)
    return sleeps


@pytest.fixture
def school(db: None) -> School:
    return School.objects.create(slug="oak", name="Oakfield Primary School")
