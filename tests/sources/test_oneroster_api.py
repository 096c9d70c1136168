"""Reading a OneRoster 1.1 REST API through the fake on loopback: the same roster as the CSV set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from missync.core.roster import Roster, SourceError
from missync.providers.fake_oneroster_api import FakeOneRosterAPI
from missync.sample import (
    SampleSchool,
    generate_pupils_school,
    generate_school,
    mid_year_changes,
    write_oneroster,
)
from missync.sources import oneroster_api as api_module
from missync.sources.http import HttpOptions
from missync.sources.oneroster import read_oneroster
from missync.sources.oneroster_api import read_oneroster_api

T0 = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


def fast(**overrides: object) -> HttpOptions:
    options = HttpOptions(sleep=lambda seconds: None, timeout=0.3, connect_timeout=0.5, retries=1)
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


@pytest.fixture(scope="module")
def school() -> SampleSchool:
    return generate_school(seed=51)


@pytest.fixture
def fake(school: SampleSchool) -> Iterator[FakeOneRosterAPI]:
    with FakeOneRosterAPI(school) as server:
        yield server


def read(fake: FakeOneRosterAPI, options: HttpOptions | None = None, **kwargs: object) -> Roster:
    return read_oneroster_api(fake.origin, fake.client_id, fake.secret, options=options or fast(), **kwargs)  # type: ignore[arg-type]


def test_the_api_gives_the_same_roster_as_the_csv_set(
    fake: FakeOneRosterAPI, school: SampleSchool, tmp_path: Path
) -> None:
    options = fast()
    live = read(fake, options)
    files = read_oneroster(write_oneroster(school, tmp_path / "set"))
    assert live.source == "oneroster-api" and live.complete
    assert live.people == files.people
    assert live.groups == files.groups
    assert options.stats.requests == 5  # the token, then users, classes, enrollments, demographics
    assert "5 requests" in live.description


def test_paging_adds_up_to_x_total_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_module, "PAGE_LIMIT", 100)
    with FakeOneRosterAPI(generate_pupils_school(seed=4, pupils=450)) as fake:
        roster = read(fake)
    assert sum(p.role == "pupil" for p in roster.people) == 450


def test_an_expired_token_is_renewed_once(fake: FakeOneRosterAPI, school: SampleSchool) -> None:
    fake.inject("401", "/users", times=1)
    roster = read(fake)
    assert sum(p.role == "pupil" for p in roster.people) == len(school.pupils)


def test_a_delta_reads_changed_users_and_leavers(school: SampleSchool) -> None:
    later = mid_year_changes(school, seed=3, joiners=2, leavers=2, surname_changes=1)
    with FakeOneRosterAPI(school, now=T0) as fake:
        fake.set_school(later, at=T0 + dt.timedelta(days=10))
        delta = read(fake, since=T0 + dt.timedelta(days=1))
    assert not delta.complete
    assert len(delta.removed) == 2 and len(delta.people) == 3
    assert all(p.registration_group for p in delta.people)
    assert not [p for p in delta.problems if p.severity == "error"]


def test_wrong_client_credentials_are_a_clear_error(fake: FakeOneRosterAPI) -> None:
    with pytest.raises(SourceError, match="The OneRoster API: the token was rejected"):
        read_oneroster_api(fake.origin, fake.client_id, "wrong", options=fast())


@pytest.mark.parametrize(
    ("kind", "page", "extra", "expected"),
    [
        ("401", 1, {"times": None}, "the token was rejected"),
        ("403", 1, {}, "permission not approved: read users"),
        ("429", 2, {"times": None}, "too many requests (HTTP 429)"),
        ("500", 2, {"times": None}, "a server error (HTTP 500)"),
        ("drop", 3, {"times": None}, "stopped answering while reading people after 200 records"),
        (
            "slow",
            2,
            {"times": None, "delay": 1.5},
            "stopped answering while reading people after 100 records",
        ),
        ("wrong_total", 2, {}, "the total changed from"),
        ("repeat_record", 2, {}, "repeats a record of an earlier page"),
        ("skip_page", 2, {}, "do not add up"),
    ],
)
def test_every_fault_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, kind: str, page: int, extra: dict[str, object], expected: str
) -> None:
    monkeypatch.setattr(api_module, "PAGE_LIMIT", 100)
    with FakeOneRosterAPI(generate_pupils_school(seed=4, pupils=450)) as fake:
        fake.inject(kind, "/users", page=page, **extra)  # type: ignore[arg-type]
        with pytest.raises(SourceError) as error:
            read(fake)
    message = str(error.value)
    assert message.startswith("The OneRoster API: ") and expected in message
    assert "nothing was changed" in message and fake.secret not in message
