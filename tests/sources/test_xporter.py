"""Reading Xporter on Demand through the fake Xporter on loopback: mapping, paging, deltas, faults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from missync.core.roster import Roster, SourceError
from missync.providers.fake_xporter import FakeXporter
from missync.sample import SampleSchool, generate_pupils_school, generate_school, mid_year_changes
from missync.sources import xporter as xporter_module
from missync.sources.http import HttpOptions
from missync.sources.xporter import read_xporter

T0 = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


def fast(**overrides: object) -> HttpOptions:
    options = HttpOptions(sleep=lambda seconds: None, timeout=0.3, connect_timeout=0.5, retries=1)
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


@pytest.fixture(scope="module")
def school() -> SampleSchool:
    return generate_school(seed=41)


@pytest.fixture
def fake(school: SampleSchool) -> Iterator[FakeXporter]:
    with FakeXporter(school) as server:
        yield server


def read(fake: FakeXporter, options: HttpOptions | None = None, **kwargs: object) -> Roster:
    return read_xporter(
        fake.establishment,
        fake.app_id,
        fake.secret,
        base_url=fake.base_url,
        options=options or fast(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_full_read_maps_pupils_staff_and_groups(fake: FakeXporter, school: SampleSchool) -> None:
    options = fast()
    roster = read(fake, options)
    assert roster.source == "xporter" and roster.complete
    assert not [p for p in roster.people if p.problems]
    pupils = {p.mis_id: p for p in roster.people if p.role == "pupil"}
    assert len(pupils) == len(school.pupils)
    for sample in school.pupils:
        person = pupils[sample.adno]
        assert (person.forename, person.surname, person.upn, person.dob) == (
            sample.forename,
            sample.surname,
            sample.upn,
            sample.dob,
        )
        assert roster.groups[person.registration_group or ""].name == sample.reg_group
        assert sorted(roster.groups[key].name for key in person.groups) == sorted(sample.groups)
    assert {p.year for p in pupils.values()} >= {"Reception", "Year  4"}  # SIMS's two spaces kept
    staff = {p.mis_id: p for p in roster.people if p.role == "staff"}
    for member in school.staff:
        assert staff[member.staff_code].email == member.email
        assert sorted(roster.groups[k].name for k in staff[member.staff_code].groups) == sorted(
            member.classes
        )
    assert options.stats.requests == 4  # the token, then one page each of pupils, staff and groups


def test_paging_follows_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xporter_module, "PAGE_SIZE", 100)
    school = generate_pupils_school(seed=2, pupils=450)
    with FakeXporter(school) as fake:
        roster = read(fake)
        assert fake.request_count("/Students/") == 5
    assert sum(p.role == "pupil" for p in roster.people) == 450


def test_without_the_upn_scope_there_is_a_warning(school: SampleSchool) -> None:
    with FakeXporter(school, missing_scopes=["UPN"]) as fake:
        roster = read(fake)
    assert all(p.upn is None for p in roster.people)
    assert any("scope UPN: no UPNs: more possible duplicates" in p.message for p in roster.problems)


def test_a_delta_reads_changes_and_deletions(school: SampleSchool) -> None:
    later = mid_year_changes(school, seed=9, joiners=2, leavers=3, surname_changes=1)
    with FakeXporter(school, now=T0) as fake:
        before = read(fake)
        fake.set_school(later, at=T0 + dt.timedelta(days=20))
        delta = read(fake, since=T0 + dt.timedelta(days=1))
    assert not delta.complete
    assert len(delta.removed) == 3 and delta.removed <= {p.key for p in before.people}
    assert len(delta.people) == 3


def test_a_wrong_secret_is_a_clear_error(fake: FakeXporter) -> None:
    with pytest.raises(SourceError, match=r"rejected .* nothing was changed\. Fix: re-authorise missync"):
        read_xporter(fake.establishment, fake.app_id, "wrong", base_url=fake.base_url, options=fast())


@pytest.mark.parametrize(
    ("kind", "page", "extra", "expected"),
    [
        ("401", 1, {"times": None}, "the token was rejected"),
        (
            "403",
            1,
            {"detail": "The StudentLite scope is not authorised."},
            "permission not approved: read pupils",
        ),
        ("429", 2, {"times": None, "retry_after": "1"}, "too many requests (HTTP 429)"),
        ("500", 2, {"times": None}, "a server error (HTTP 500)"),
        ("drop", 2, {"times": None}, "stopped answering while reading pupils after 100 records"),
        (
            "slow",
            2,
            {"times": None, "delay": 1.5},
            "stopped answering while reading pupils after 100 records",
        ),
        ("foreign_next", 1, {}, "points to another host (xporter.example.net)"),
        ("no_next", 1, {}, "page 1 of 5 has no link to the next page"),
        ("skip_page", 1, {}, "the link after page 1 leads to page 3"),
        ("wrong_total", 2, {}, "the total changed from 450 to 550 records"),
    ],
)
def test_every_fault_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, kind: str, page: int, extra: dict[str, object], expected: str
) -> None:
    monkeypatch.setattr(xporter_module, "PAGE_SIZE", 100)
    with FakeXporter(generate_pupils_school(seed=2, pupils=450)) as fake:
        fake.inject(kind, "/Students/", page=page, **extra)  # type: ignore[arg-type]
        with pytest.raises(SourceError) as error:
            read(fake)
    message = str(error.value)
    assert message.startswith("Xporter on Demand: ") and expected in message
    assert "nothing was changed" in message and fake.secret not in message
