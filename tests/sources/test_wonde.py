"""Reading Wonde through the fake Wonde on loopback: mapping, paging, deltas, and every fault."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import pytest

from missync.core.roster import Roster, SourceError
from missync.providers.fake_wonde import FakeWonde
from missync.sample import SampleSchool, generate_pupils_school, generate_school, mid_year_changes
from missync.sources.http import HttpOptions
from missync.sources.wonde import MAX_PER_PAGE, read_wonde

T0 = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


def fast(**overrides: object) -> HttpOptions:
    """Options that never really wait: sleeps are recorded, reads time out quickly."""
    sleeps: list[float] = []
    options = HttpOptions(sleep=sleeps.append, timeout=0.5, connect_timeout=0.5, retries=2)
    for key, value in overrides.items():
        setattr(options, key, value)
    options.sleeps = sleeps  # type: ignore[attr-defined]
    return options


@pytest.fixture(scope="module")
def school() -> SampleSchool:
    return generate_school(seed=31)


@pytest.fixture(scope="module")
def three_pages() -> SampleSchool:
    return generate_pupils_school(seed=3, pupils=450)


@pytest.fixture
def wonde(school: SampleSchool) -> Iterator[FakeWonde]:
    with FakeWonde(school) as fake:
        yield fake


def read(wonde: FakeWonde, options: HttpOptions | None = None, **kwargs: object) -> Roster:
    return read_wonde(
        wonde.school_id, wonde.token, base_url=wonde.base_url, options=options or fast(), **kwargs
    )  # type: ignore[arg-type]


def test_a_full_read_maps_pupils_staff_and_classes(wonde: FakeWonde, school: SampleSchool) -> None:
    roster = read(wonde)
    assert roster.source == "wonde" and roster.complete
    pupils = [p for p in roster.people if p.role == "pupil"]
    staff = [p for p in roster.people if p.role == "staff"]
    assert len(pupils) == len(school.pupils) and len(staff) == len(school.staff)
    assert not [p for p in roster.people if p.problems]
    by_adno = {p.mis_id: p for p in pupils}
    for sample in school.pupils[:50]:
        person = by_adno[sample.adno]
        assert (person.forename, person.surname, person.upn) == (sample.forename, sample.surname, sample.upn)
        assert person.legal_forename == sample.legal_forename and person.dob == sample.dob
        assert person.key.startswith("A") and person.upi
        assert person.year == sample.year
        assert roster.groups[person.registration_group or ""].name == sample.reg_group
        assert roster.groups[person.registration_group or ""].kind == "registration"
        assert sorted(roster.groups[key].name for key in person.groups) == sorted(sample.groups)
    by_code = {p.mis_id: p for p in staff}
    for member in school.staff:
        person = by_code[member.staff_code]
        assert person.email == member.email
        assert sorted(roster.groups[key].name for key in person.groups) == sorted(member.classes)
    registration = {g.name for g in roster.groups.values() if g.kind == "registration"}
    assert registration == set(school.class_ids)
    assert "requests" in roster.description


def test_a_2000_pupil_school_takes_a_handful_of_requests() -> None:
    big = generate_pupils_school(seed=7, pupils=2000)
    with FakeWonde(big) as wonde:
        options = fast()
        roster = read(wonde, options)
    assert sum(p.role == "pupil" for p in roster.people) == 2000
    # permissions, the pupils at the maximum page size, and the staff on one page
    assert options.stats.requests == 1 + math.ceil(2000 / MAX_PER_PAGE) + 1 == 12
    assert wonde.request_count() == 12
    assert "12 requests" in roster.description


def test_a_school_with_no_classes_uses_registration_groups(school: SampleSchool) -> None:
    with FakeWonde(school, classes=False) as wonde:
        roster = read(wonde)
    assert {g.kind for g in roster.groups.values()} == {"registration"}
    assert all(p.registration_group for p in roster.people if p.role == "pupil")
    assert not [p for p in roster.people if p.problems]


def test_missing_optional_permissions_are_warnings_with_their_cost(school: SampleSchool) -> None:
    with FakeWonde(school, missing_permissions=["students.upn", "employees.contact_details"]) as wonde:
        roster = read(wonde)
    assert all(p.upn is None for p in roster.people)
    warnings = " ".join(p.message for p in roster.problems if p.severity == "warning" and not p.person)
    assert "students.upn: no UPNs: more possible duplicates" in warnings
    assert "employees.contact_details: no staff email addresses: staff are not imported" in warnings
    staff = [p for p in roster.people if p.role == "staff"]
    assert staff and all("no email address" in p.problems[0].message for p in staff)


def test_a_missing_required_permission_stops_the_read(school: SampleSchool) -> None:
    expected = r"permission not approved: read staff \(employees.read\)"
    with (
        FakeWonde(school, missing_permissions=["employees.read"]) as wonde,
        pytest.raises(SourceError, match=expected),
    ):
        read(wonde)


def test_before_approval_the_school_cannot_be_read(school: SampleSchool) -> None:
    with (
        FakeWonde(school, approved=False) as wonde,
        pytest.raises(SourceError, match="permission not approved"),
    ):
        read(wonde)


def test_a_delta_reads_changes_and_deletions(school: SampleSchool) -> None:
    later = mid_year_changes(school, seed=5, joiners=4, leavers=3, surname_changes=1)
    with FakeWonde(school, now=T0) as wonde:
        before = read(wonde)
        wonde.set_school(later, at=T0 + dt.timedelta(days=30))
        delta = read(wonde, since=T0 + dt.timedelta(days=1))
    assert not delta.complete and delta.source == "wonde"
    assert len(delta.removed) == 3
    assert delta.removed <= {p.key for p in before.people}
    assert len(delta.people) == 5  # 4 joiners and 1 surname change
    assert all(p.registration_group for p in delta.people if p.role == "pupil")


# -- faults: each one a SourceError saying what happened and that nothing was changed -------------------


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        ("401", {}, "the token was rejected (rotated or revoked?)"),
        ("403", {"detail": "permission not approved: students.read"}, "permission not approved: read pupils"),
        ("500", {"times": None}, "kept answering with a server error (HTTP 500) while reading pupils"),
        ("429", {"times": None, "retry_after": "2"}, "kept answering with too many requests (HTTP 429)"),
        ("drop", {"times": None}, "stopped answering while reading pupils after 200 records"),
        ("slow", {"times": None, "delay": 2.0}, "stopped answering while reading pupils after 200 records"),
        ("foreign_next", {}, "points to another host (wonde.example.net)"),
        ("no_next", {}, "more pages were announced but no link to the next one"),
        ("skip_page", {}, "page 3 came where page 2 was expected"),
        ("repeat_record", {}, "repeats a record of an earlier page"),
        ("404", {}, "a page is missing"),
    ],
)
def test_every_fault_is_one_clear_error(
    kind: str, options: dict[str, object], expected: str, three_pages: SampleSchool
) -> None:
    with FakeWonde(three_pages) as wonde:
        page = None if kind in ("401", "403", "foreign_next", "no_next", "skip_page") else 2
        if kind in ("401", "403"):
            page = 1
        wonde.inject(kind, "/students", page=page, **options)  # type: ignore[arg-type]
        with pytest.raises(SourceError) as error:
            read(wonde, fast(timeout=0.3, retries=1))
    message = str(error.value)
    assert message.startswith("Wonde: ")
    assert expected in message and "nothing was changed" in message
    assert wonde.token not in message


def test_429_is_retried_after_the_time_it_asks(school: SampleSchool, wonde: FakeWonde) -> None:
    wonde.inject("429", "/students", retry_after="5", times=2)
    options = fast()
    roster = read(wonde, options)
    assert len(roster.people) == len(school.pupils) + len(school.staff)
    assert options.sleeps == [5.0, 5.0]  # type: ignore[attr-defined]


def test_a_one_off_dropped_connection_or_500_is_retried(school: SampleSchool, wonde: FakeWonde) -> None:
    wonde.inject("drop", "/students", page=2)
    wonde.inject("500", "/employees", retry_after=None)
    options = fast()
    roster = read(wonde, options)
    assert len(roster.people) == len(school.pupils) + len(school.staff)
    assert options.sleeps == [1.0, 1.0]  # type: ignore[attr-defined]
