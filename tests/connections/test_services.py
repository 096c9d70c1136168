"""Registering a school with a provider, its status, and reading it live through `preview`/`apply`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from missync.accounts.apply import apply_plan
from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SyncRun
from missync.accounts.services import InvalidInput, preview
from missync.accounts.store import load_snapshot
from missync.connections.models import Connection
from missync.connections.services import (
    check_status,
    read_connection,
    register,
    request_access,
    stored_status,
    test_connection,
)
from missync.core.planning import build_plan
from missync.core.roster import SourceError
from missync.providers.fake_oneroster_api import FakeOneRosterAPI
from missync.providers.fake_wonde import FakeWonde
from missync.providers.fake_xporter import FakeXporter
from missync.sample import SampleSchool, generate_school, mid_year_changes
from tests.store.helpers import school_state

T0 = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample() -> SampleSchool:
    return generate_school(seed=61)


@pytest.fixture
def wonde(sample: SampleSchool) -> Iterator[FakeWonde]:
    with FakeWonde(sample, now=T0) as fake:
        yield fake


def connect_wonde(school: School, fake: FakeWonde) -> Connection:
    return register(
        school, "wonde", {"school_id": fake.school_id, "base_url": fake.base_url, "secret": fake.token}
    )


def test_the_secret_is_stored_encrypted(school: School, wonde: FakeWonde) -> None:
    connection = connect_wonde(school, wonde)
    assert connection.status == "pending"
    stored = Connection.objects.get(pk=connection.pk)
    assert wonde.token not in stored.secret and wonde.token not in json.dumps(stored.options)
    assert decrypt_credential(stored.secret) == wonde.token
    assert stored.options == {"school_id": wonde.school_id, "base_url": wonde.base_url}
    again = connect_wonde(school, wonde)  # registering again replaces, one per provider
    assert again.pk == connection.pk and Connection.objects.filter(school=school).count() == 1


@pytest.mark.parametrize(
    ("provider", "settings", "message"),
    [
        ("wonde", {"secret": "t"}, "needs --school-id"),
        ("wonde", {"school_id": "A1"}, "needs its token"),
        ("wonde", {"school_id": "A1", "secret": "t", "base_url": "http://api.wonde.com"}, "https"),
        ("xporter", {"establishment": "21x", "app_id": "a", "secret": "s"}, "digits only"),
        ("oneroster-api", {"client_id": "c", "secret": "s"}, "needs --base-url"),
        ("clever", {"secret": "s"}, "unknown provider"),
        ("wonde", {"school_id": "A1", "secret": "t", "colour": "red"}, "unknown setting"),
    ],
)
def test_bad_settings_are_refused(
    school: School, provider: str, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        register(school, provider, settings)
    assert not Connection.objects.exists()


def test_register_request_access_approve_with_missing_permissions(
    school: School, sample: SampleSchool
) -> None:
    with FakeWonde(sample, approved=False) as fake:
        connect_wonde(school, fake)
        contact = {
            "first_name": "Office",
            "last_name": "Manager",
            "email_address": "office@school.example.org",
        }
        status = request_access(school, "wonde", [contact])
        assert (status.state, status.can_sync) == ("pending", False)
        assert "Waiting for the school to approve" in status.message
        assert fake.access_requests == [{"contacts": [contact]}]
        with pytest.raises(SourceError):
            read_connection(school, "wonde")

        fake.approve(missing=["students.upn", "employees.contact_details"])
        status = check_status(school, "wonde")
        assert (status.state, status.can_sync) == ("missing_permissions", True)
        costs = {m.name: m.cost for m in status.missing}
        assert "more possible duplicates" in costs["students.upn"]
        assert "staff are not imported" in costs["employees.contact_details"]
        assert stored_status(school, "wonde").missing == status.missing

        fake.approve()
        assert check_status(school, "wonde").state == "approved"
        assert Connection.objects.get(school=school).status == "approved"


def test_a_missing_required_permission_means_it_cannot_sync(school: School, sample: SampleSchool) -> None:
    with FakeWonde(sample, missing_permissions=["students.read"]) as fake:
        connect_wonde(school, fake)
        outcome = test_connection(school, "wonde")
    assert not outcome.ok and outcome.status.missing[0].required
    assert "cannot sync yet" in outcome.message


def test_a_rotated_token_fails_the_test_with_a_clear_message(school: School, wonde: FakeWonde) -> None:
    connect_wonde(school, wonde)
    assert test_connection(school, "wonde").ok
    wonde.rotate_token()
    outcome = test_connection(school, "wonde")
    assert not outcome.ok and outcome.status.state == "failed"
    assert "the token was rejected (rotated or revoked?)" in outcome.message


def test_xporter_and_oneroster_statuses(school: School, sample: SampleSchool) -> None:
    with FakeXporter(sample, missing_scopes=["UPN"]) as xporter:
        settings = {
            "establishment": xporter.establishment,
            "app_id": xporter.app_id,
            "base_url": xporter.base_url,
        }
        register(school, "xporter", settings | {"secret": "not-yet-issued"})
        assert check_status(school, "xporter").state == "pending"
        register(school, "xporter", settings | {"secret": xporter.secret})
        status = check_status(school, "xporter")
        assert status.state == "missing_permissions" and [m.name for m in status.missing] == ["UPN"]
    with FakeOneRosterAPI(sample) as api:
        register(
            school,
            "oneroster-api",
            {"base_url": api.origin, "client_id": api.client_id, "secret": api.secret},
        )
        assert check_status(school, "oneroster-api").state == "approved"


def test_preview_and_apply_read_the_connection_live(
    school: School, wonde: FakeWonde, sample: SampleSchool
) -> None:
    connect_wonde(school, wonde)
    result = preview(school, ["wonde"])
    summary = result.plan.summary()
    assert summary["new_pupils"] == len(sample.pupils) and summary["new_staff"] == len(sample.staff)
    assert result.roster.source == "wonde" and "requests" in result.roster.description
    apply_plan(school, result.plan)
    connection = Connection.objects.get(school=school)
    assert connection.last_requests == 4 and connection.last_read_at is not None
    again = preview(school, ["wonde"]).plan
    assert not again.has_changes


def test_a_delta_archives_only_the_deleted(school: School, wonde: FakeWonde, sample: SampleSchool) -> None:
    connect_wonde(school, wonde)
    apply_plan(school, preview(school, ["wonde"]).plan)
    wonde.set_school(mid_year_changes(sample, seed=2, joiners=2, leavers=2), at=T0 + dt.timedelta(days=40))
    roster = read_connection(school, "wonde", since=T0 + dt.timedelta(days=1))
    plan = build_plan(roster, load_snapshot(school), school.choices())
    summary = plan.summary()
    assert (summary["leavers"], summary["new_pupils"], summary["updated"]) == (2, 2, 1)
    assert not plan.held


def test_progress_is_reported(school: School, wonde: FakeWonde) -> None:
    connect_wonde(school, wonde)
    seen: list[tuple[str, int, int]] = []
    read_connection(school, "wonde", progress=lambda what, done, total: seen.append((what, done, total)))
    assert ("pupils", 200, 0) in seen and seen[-1][0] == "staff"


# -- a provider failing mid-read leaves the school exactly as it was ---------------------------------


FAULTS = [
    ("401", {"page": 1}),
    ("403", {"page": 1}),
    ("429", {"page": 2, "times": None}),
    ("500", {"page": 2, "times": None}),
    ("drop", {"page": 2, "times": None}),
    ("slow", {"page": 2, "times": None, "delay": 1.0}),
    ("foreign_next", {"page": 1}),
    ("skip_page", {"page": 1}),
]


@pytest.mark.parametrize(("kind", "options"), FAULTS, ids=[kind for kind, _ in FAULTS])
def test_a_wonde_failure_mid_read_changes_nothing(
    school: School, wonde: FakeWonde, kind: str, options: dict[str, object]
) -> None:
    connect_wonde(school, wonde)
    apply_plan(school, preview(school, ["wonde"]).plan)
    before, runs = school_state(school), SyncRun.objects.count()
    wonde.inject(kind, "/students", **options)  # type: ignore[arg-type]
    with pytest.raises(SourceError, match="nothing was changed"):
        plan = preview(school, ["wonde"]).plan
        apply_plan(school, plan)
    assert school_state(school) == before and SyncRun.objects.count() == runs
    assert Account.objects.filter(school=school, status="archived").count() == 0
    assert Connection.objects.get(school=school).status == "failed"
    wonde.clear_faults()
    assert preview(school, ["wonde"]).plan.summary()["leavers"] == 0


@pytest.mark.parametrize("provider", ["xporter", "oneroster-api"])
def test_other_providers_failing_mid_read_change_nothing(
    school: School, sample: SampleSchool, provider: str
) -> None:
    fake: FakeXporter | FakeOneRosterAPI
    if provider == "xporter":
        fake = FakeXporter(sample).start()  # type: ignore[assignment]
        assert isinstance(fake, FakeXporter)
        settings = {"establishment": fake.establishment, "app_id": fake.app_id, "secret": fake.secret}
        path = "/Staff/"
    else:
        fake = FakeOneRosterAPI(sample).start()  # type: ignore[assignment]
        assert isinstance(fake, FakeOneRosterAPI)
        settings = {"client_id": fake.client_id, "secret": fake.secret}
        path = "/enrollments"
    try:
        register(school, provider, settings | {"base_url": fake.origin})
        apply_plan(school, preview(school, [provider]).plan)
        before = school_state(school)
        fake.inject("drop", path, times=None)
        with pytest.raises(SourceError, match=r"stopped answering .* nothing was changed"):
            preview(school, [provider])
        assert school_state(school) == before
    finally:
        fake.stop()
