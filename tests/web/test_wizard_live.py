"""The wizard's data source step reading the school's MIS live: registering with Wonde, Xporter or a
OneRoster API from the wizard, the connection's status and its actions, a whole run read live from the
fake Wonde on loopback, a provider failing mid-read, and the walls between schools and roles."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from missync.accounts.apply import apply_plan
from missync.accounts.models import Account, School, SyncRun
from missync.accounts.services import preview, read_roster
from missync.connections import services
from missync.connections.models import Connection
from missync.providers.fake_oneroster_api import FakeOneRosterAPI
from missync.providers.fake_wonde import FakeWonde
from missync.providers.fake_xporter import FakeXporter
from missync.sample import SampleSchool, generate_school, write_oneroster
from missync.sources.http import HttpOptions, Progress
from missync.wizard.logins import create_login
from missync.wizard.models import SyncJob
from missync.wizard.sync.state import roster_from_json, roster_to_json
from tests.store.helpers import school_state

from .conftest import PASSWORD, SyncedSchool, signed_in
from .test_wizard import answer, finish, shown_counts, step_form

SYNC = "/{slug}/manage/sync/"


# -- fixtures and helpers ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def wizard_settings(settings: Any, tmp_path: Path) -> Path:
    """Uploads and live reads in the test's own folder; reads and jobs run inline (one test runs the
    real background thread)."""
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.MISSYNC_SYNC_JOBS_INLINE = True
    return settings.UPLOAD_ROOT


def fast_options(timeout: float = 0.3) -> Any:
    def options(progress: Progress | None = None) -> HttpOptions:
        return HttpOptions(
            sleep=lambda seconds: None, timeout=timeout, connect_timeout=0.5, retries=1, progress=progress
        )

    return options


@pytest.fixture(autouse=True)
def fast_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """Provider calls retry once, time out after 0.3 s and never really wait."""
    monkeypatch.setattr(services, "http_options", fast_options())


@pytest.fixture(scope="module")
def sample() -> SampleSchool:
    return generate_school(seed=71)


@pytest.fixture
def wonde(sample: SampleSchool) -> Iterator[FakeWonde]:
    with FakeWonde(sample) as fake:
        yield fake


class LiveSchool:
    """A school with an admin signed in and no accounts yet."""

    def __init__(self, slug: str) -> None:
        self.school = School.objects.create(slug=slug, name=f"{slug.title()} Primary School")
        self.admin_email = f"office@{slug}.example.org"
        create_login(self.school, self.admin_email, PASSWORD, role="admin", name="Office Admin")
        self.client = Client()
        response = self.client.post(f"/{slug}/", {"email": self.admin_email, "password": PASSWORD})
        assert response.status_code == 302

    @property
    def url(self) -> str:
        return SYNC.format(slug=self.school.slug)

    def register_wonde(self, fake: FakeWonde, **extra: str) -> Any:
        data = {
            "live_action": "register",
            "provider": "wonde",
            "school_id": fake.school_id,
            "base_url": fake.base_url,
            "token": fake.token,
            **extra,
        }
        return self.client.post(self.url + "?live=wonde", data)

    def act(self, action: str, provider: str = "wonde", **headers: str) -> Any:
        return self.client.post(
            self.url + f"?live={provider}", {"live_action": action, "provider": provider}, **headers
        )

    def page(self, provider: str = "wonde") -> str:
        response = self.client.get(self.url + f"?live={provider}")
        assert response.status_code == 200
        return text_of(response)

    def use(self, provider: str = "wonde") -> Any:
        """ "Use this connection", following the read to where the wizard goes next."""
        response = self.act("use", provider)
        assert response.status_code == 302 and "?reading=" in response["Location"], response.content[:500]
        return self.client.get(response["Location"])


@pytest.fixture
def ash(db: None) -> LiveSchool:
    return LiveSchool("ash")


def text_of(response: Any) -> str:
    return unescape(response.content.decode())


def followed(client: Client, response: Any) -> str:
    assert response.status_code == 302, response.content[:1000]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return text_of(page)


# -- registering with Wonde from the wizard ------------------------------------------------------------
def test_the_data_source_step_offers_live_providers_beside_the_upload(ash: LiveSchool) -> None:
    page = ash.client.get(ash.url)
    html = text_of(page)
    assert page.status_code == 200 and html.count("<h1") == 1
    # the upload form is as it was
    assert "Upload your MIS export" in html and ">Upload and continue</button>" in html
    assert 'name="export"' in html and 'name="staff_export"' in html
    assert list(step_form(page.content)) == ["csrfmiddlewaretoken"]  # the page's own form: the upload
    # and beside it, the live providers, none set up yet
    assert "Read live from your MIS" in html
    for label in ("Wonde", "Xporter on Demand", "OneRoster API"):
        assert f">{label}<" in html
    assert html.count("not set up yet") == 3 and "Set up Wonde" not in html

    form = ash.page("wonde")
    assert "<legend>Set up Wonde</legend>" in form and 'aria-current="true"' in form
    assert 'name="school_id"' in form and 'value="https://api.wonde.com/v1.0"' in form
    assert re.search(r'<input type="password" name="token"[^>]*autocomplete="new-password"', form)
    assert '<label for="id_school_id">Wonde school id</label>' in form
    assert 'aria-describedby="id_school_id_helptext"' in form
    xporter = ash.page("xporter")
    for name in ("establishment", "app_id", "school_secret"):
        assert f'name="{name}"' in xporter
    assert 'type="password" name="school_secret"' in xporter
    oneroster = ash.page("oneroster-api")
    for name in ("base_url", "client_id", "client_secret", "token_url"):
        assert f'name="{name}"' in oneroster
    assert "Token URL (optional)" in oneroster


def test_register_wonde_from_the_wizard_then_the_school_approves(
    ash: LiveSchool, sample: SampleSchool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeWonde(sample, approved=False, approve_after=0.3) as fake:
        response = ash.register_wonde(fake)
        assert response.status_code == 302 and response["Location"] == ash.url + "?live=wonde#live-source"
        assert len(fake.access_requests) == 1  # the wizard asked the school to approve missync
        connection = Connection.objects.get(school=ash.school, provider="wonde")
        assert connection.status == "pending" and fake.token not in connection.secret
        page = followed(ash.client, response)
        assert 'Wonde: <span class="state-pending">Waiting for the school\'s approval</span>' in page
        assert "Waiting for the school to approve missync in the Wonde portal." in page
        assert ">Check again</button>" in page and ">Test connection</button>" in page
        assert ">Change settings</a>" in page and "Use this connection" not in page
        assert fake.school_id in page and fake.token not in page
        refused = ash.act("use")  # a hand-made post cannot read before the school approves
        assert refused.status_code == 302 and "?reading=" not in refused["Location"]
        assert "cannot be read yet" in followed(ash.client, refused)

        deadline = time.monotonic() + 10
        while Connection.objects.get(pk=connection.pk).status == "pending":
            assert time.monotonic() < deadline, "the fake Wonde never approved"
            time.sleep(0.1)
            page = followed(ash.client, ash.act("check"))
        assert "Checked Wonde just now: approved." in page
        assert 'class="state-approved">Approved</span>' in page and "Use this connection" in page
        assert "The school has approved missync." in page
    assert fake.token not in caplog.text


def test_missing_permissions_are_shown_with_what_each_costs(ash: LiveSchool, sample: SampleSchool) -> None:
    with FakeWonde(sample, missing_permissions=["students.upn", "employees.contact_details"]) as fake:
        page = followed(ash.client, ash.register_wonde(fake))
    assert "Approved, with permissions missing" in page
    assert "Permissions the school has not approved, and what each one costs" in page
    upn = re.search(r"<li><strong>students\.upn</strong> \(optional\): ([^<]+)</li>", page)
    assert upn and "more possible duplicates" in upn.group(1)
    emails = re.search(r"<li><strong>employees\.contact_details</strong> \(optional\): ([^<]+)</li>", page)
    assert emails and "staff are not imported" in emails.group(1)
    assert "Use this connection" in page  # optional permissions: it can still sync


def test_a_missing_required_permission_means_no_sync(ash: LiveSchool, sample: SampleSchool) -> None:
    with FakeWonde(sample, missing_permissions=["students.read"]) as fake:
        page = followed(ash.client, ash.register_wonde(fake))
        assert "<strong>students.read</strong> (required)" in page and "Use this connection" not in page
        assert ash.act("use").status_code == 302
        assert fake.request_count("/students") == 0


def test_test_connection_and_check_again_with_and_without_javascript(
    ash: LiveSchool, wonde: FakeWonde
) -> None:
    ash.register_wonde(wonde)
    page = followed(ash.client, ash.act("test"))
    assert re.search(
        r"Connected to Wonde in \d+\.\d s \(\d+ requests\): a sync can read the school now", page
    )

    fragment = ash.act("check", HTTP_HX_REQUEST="true")  # htmx replaces the status panel in place
    html = text_of(fragment)
    assert fragment.status_code == 200 and '<section class="live-source" id="live-source"' in html
    assert "<html" not in html and "Checked Wonde just now: approved." in html and 'role="status"' in html

    wonde.rotate_token()
    fragment = ash.act("test", HTTP_HX_REQUEST="true")
    html = text_of(fragment)
    assert "Cannot sync yet. Wonde: the token was rejected (rotated or revoked?)" in html
    assert '<span class="provider-state">Failed</span>' in html  # the provider list is refreshed too
    assert 'class="state-failed">Failed</span>' in html and "Use this connection" not in html
    page = followed(ash.client, ash.act("test"))
    assert "the token was rejected" in page


def test_change_settings_keeps_the_secret_when_left_blank(ash: LiveSchool, wonde: FakeWonde) -> None:
    ash.register_wonde(wonde)
    change = ash.client.get(ash.url + "?live=wonde&change=1")
    html = text_of(change)
    assert "<legend>Change the Wonde settings</legend>" in html and f'value="{wonde.school_id}"' in html
    assert wonde.token not in html and "Leave it blank to keep the token missync already has." in html
    response = ash.register_wonde(wonde, token="")
    page = followed(ash.client, response)
    assert "The Wonde connection is saved." in page and 'class="state-approved"' in page
    assert Connection.objects.filter(school=ash.school).count() == 1
    assert services.test_connection(ash.school, "wonde").ok

    new_token = wonde.rotate_token()
    page = followed(ash.client, ash.register_wonde(wonde, token=new_token))
    assert 'class="state-approved"' in page and new_token not in page


def test_a_kept_secret_is_never_sent_to_a_new_address_or_school(ash: LiveSchool, wonde: FakeWonde) -> None:
    ash.register_wonde(wonde)
    before = Connection.objects.get(school=ash.school).options
    for change in ({"base_url": "https://wonde.attacker.example.org/v1.0"}, {"school_id": "A0000000001"}):
        response = ash.register_wonde(wonde, token="", **change)
        html = text_of(response)
        assert response.status_code == 200 and "enter the token again" in html
        assert Connection.objects.get(school=ash.school).options == before


# -- Xporter and OneRoster API ------------------------------------------------------------------------
def test_xporter_registration_form_errors_are_linked_to_their_fields(ash: LiveSchool) -> None:
    data = {
        "live_action": "register",
        "provider": "xporter",
        "establishment": "21x4567",
        "app_id": "",
        "school_secret": "s3cret-never-shown",
        "base_url": "http://xporter.example.org",
    }
    response = ash.client.post(ash.url + "?live=xporter", data)
    html = text_of(response)
    assert response.status_code == 200 and not Connection.objects.exists()
    assert "There is a problem" in html and html.count("<h1") == 1
    assert '<a href="#id_establishment">The establishment number is the school\'s DfE number' in html
    assert '<a href="#id_app_id">Enter missync\'s Xporter app id.</a>' in html
    assert "must start with https://" in html
    for field in ("establishment", "app_id", "base_url"):
        assert re.search(
            rf'name="{field}"[^>]*aria-describedby="id_{field}-error id_{field}_helptext"[^>]*aria-invalid',
            html,
        ), field
        assert f'<p class="field-error" id="id_{field}-error">' in html
    assert "s3cret-never-shown" not in html  # a secret is never echoed back, even with errors
    assert 'value="21x4567"' in html  # the rest is kept to correct
    assert "<legend>Set up Xporter on Demand</legend>" in html
    # the upload form is still there, untouched by the other form's errors
    assert ">Upload and continue</button>" in html and 'id="id_export-error"' not in html

    missing = text_of(ash.client.post(ash.url, {"live_action": "register", "provider": "xporter"}))
    assert "Enter the school&#x27;s establishment" in missing or "Enter the school's establishment" in missing
    assert "Enter the school secret Groupcall issued" in missing


def test_xporter_and_oneroster_register_against_their_fakes(ash: LiveSchool, sample: SampleSchool) -> None:
    with FakeXporter(sample, missing_scopes=["UPN"]) as xporter:
        data = {
            "live_action": "register",
            "provider": "xporter",
            "establishment": xporter.establishment,
            "app_id": xporter.app_id,
            "school_secret": xporter.secret,
            "base_url": xporter.origin,
        }
        page = followed(ash.client, ash.client.post(ash.url + "?live=xporter", data))
        assert 'Xporter on Demand: <span class="state-missing_permissions">' in page
        assert "<strong>UPN</strong> (optional)" in page and "Use this connection" in page
        assert xporter.secret not in page
    with FakeOneRosterAPI(sample) as api:
        data = {
            "live_action": "register",
            "provider": "oneroster-api",
            "base_url": api.origin,
            "client_id": api.client_id,
            "client_secret": api.secret,
        }
        page = followed(ash.client, ash.client.post(ash.url + "?live=oneroster-api", data))
        assert 'OneRoster API: <span class="state-approved">Approved</span>' in page
        assert api.secret not in page
        after = ash.use("oneroster-api")
        assert after.status_code == 302 and after["Location"] == ash.url + "usernames/"
    page = ash.page("wonde")
    assert page.count('class="provider-state">Approved</span>') == 1  # the OneRoster API
    assert "Approved, with permissions missing" in page  # Xporter


# -- a whole run read live ----------------------------------------------------------------------------
def walk(school: LiveSchool) -> bytes:
    for step in ("usernames/", "passwords/", "year-groups/", "subject-groups/"):
        response = answer(school.client, school.url + step)
        assert response.status_code == 302, response.content[:2000]
    summary = school.client.get(school.url + "summary/")
    assert summary.status_code == 200
    return summary.content


def test_a_whole_wizard_run_read_live_from_wonde(
    ash: LiveSchool, wonde: FakeWonde, sample: SampleSchool, wizard_settings: Path
) -> None:
    ash.register_wonde(wonde)
    after = ash.use()
    assert after.status_code == 302 and after["Location"] == ash.url + "usernames/"
    reads = wonde.request_count("/students")
    assert reads > 0
    usernames = ash.client.get(after["Location"])
    html = text_of(usernames)
    assert re.search(rf"Read from Wonde: {len(sample.pupils)} pupils and {len(sample.staff)} staff", html)
    assert re.search(r"Wonde school \w+, full, \d+ requests", html)  # the read's own description
    pupil = sample.pupils[0]
    assert f"{pupil.forename} {pupil.surname} →" in html
    folder = next((wizard_settings / "ash").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["read.json", "roster.json"]

    start = text_of(ash.client.get(ash.url))
    assert (
        "You read your MIS live from <strong>Wonde</strong>" in start and "Continue with this read" in start
    )

    summary = walk(ash)
    assert wonde.request_count("/students") == reads  # every step used the run's one read
    counts = shown_counts(summary)
    expected = preview(ash.school, ["wonde"]).plan.summary()
    assert counts == expected
    assert counts["new_pupils"] == len(sample.pupils) and counts["new_staff"] == len(sample.staff)
    assert not Account.objects.filter(school=ash.school).exists()

    response = finish(ash, summary)  # type: ignore[arg-type]
    assert response.status_code == 302
    result = ash.client.get(response["Location"])
    assert result.status_code == 200 and b"Sync finished" in result.content
    run = SyncRun.objects.get(school=ash.school)
    assert run.summary == expected and re.fullmatch(r"Wonde school \w+, full, \d+ requests", run.source)
    assert run.actor == ash.admin_email
    assert Account.objects.filter(school=ash.school, role="pupil").count() == len(sample.pupils)
    assert not folder.exists()  # the read is removed once the run is written
    assert ash.client.get(ash.url + "usernames/")["Location"] == ash.url
    connection = Connection.objects.get(school=ash.school)
    assert connection.last_read_at is not None and connection.last_requests

    # a second run reads again, and finds nothing to change
    assert ash.use()["Location"] == ash.url + "usernames/"
    again = shown_counts(walk(ash))
    assert again["unchanged"] == len(sample.pupils) + len(sample.staff)
    assert again["leavers"] == again["new_pupils"] == 0


def test_cancelling_a_live_run_removes_the_read(
    ash: LiveSchool, wonde: FakeWonde, wizard_settings: Path
) -> None:
    ash.register_wonde(wonde)
    ash.use()
    response = ash.client.post(ash.url + "cancel/")
    page = followed(ash.client, response)
    assert "nothing was changed and the roster read from Wonde was removed" in page
    assert not any((wizard_settings / "ash").iterdir())


# -- a provider failing mid-read ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["500", "drop"])
def test_a_provider_failing_mid_read_changes_nothing(
    ash: LiveSchool, wonde: FakeWonde, sample: SampleSchool, tmp_path: Path, wizard_settings: Path, kind: str
) -> None:
    ash.register_wonde(wonde)
    apply_plan(ash.school, preview(ash.school, ["wonde"]).plan)  # the school already had a sync
    before, runs = school_state(ash.school), SyncRun.objects.count()
    # a run in progress from an upload: a failed read must not replace it
    export = write_oneroster(sample, tmp_path / "export.zip")
    with export.open("rb") as handle:
        assert ash.client.post(ash.url, {"export": handle}).status_code == 302

    wonde.inject(kind, "/students", page=2, times=None)  # type: ignore[arg-type]
    page = ash.use()
    html = text_of(page)
    assert page.status_code == 200 and "There is a problem" in html and 'role="alert"' in html
    detail = "a server error (HTTP 500)" if kind == "500" else "the provider stopped answering"
    message = re.search(r'<div class="error-summary".*?<li>(.*?)</li>', html, re.S)
    assert message and message.group(1).startswith("Wonde: ") and detail in message.group(1)
    assert "nothing was changed" in message.group(1)
    assert "Read live from your MIS" in html and html.count("<h1") == 1

    assert school_state(ash.school) == before and SyncRun.objects.count() == runs
    assert not SyncJob.objects.filter(school=ash.school).exists()
    assert Account.objects.filter(school=ash.school, status="archived").count() == 0
    assert [p.name for p in (wizard_settings / "ash").iterdir()] != []  # the upload is kept...
    assert all((p / "export.zip").is_file() for p in (wizard_settings / "ash").iterdir())  # ...and only it
    usernames = ash.client.get(ash.url + "usernames/")
    assert usernames.status_code == 200 and b"Export: export.zip" in usernames.content

    wonde.clear_faults()  # once the provider answers again, check, read, and nobody leaves
    ash.act("check")
    assert ash.use()["Location"] == ash.url + "usernames/"
    summary = shown_counts(walk(ash))
    assert summary["leavers"] == 0 and summary["unchanged"] == len(sample.pupils) + len(sample.staff)


# -- the real background read, polled -----------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_background_read_shows_its_progress_until_done(
    settings: Any, sample: SampleSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MISSYNC_SYNC_JOBS_INLINE = False
    monkeypatch.setattr(services, "http_options", fast_options(timeout=5))
    school = LiveSchool("rowan")
    with FakeWonde(sample) as fake:
        school.register_wonde(fake)
        fake.inject("slow", "/students", page=2, delay=1.0)
        response = school.act("use")
        reading_url = response["Location"]
        page = school.client.get(reading_url)
        assert page.status_code == 200, page.content[:500]
        html = text_of(page)
        assert "Reading from Wonde…" in html and 'hx-trigger="every 1s"' in html
        assert 'http-equiv="refresh"' in html and html.count("<h1") == 1
        start = text_of(school.client.get(school.url + "?live=wonde"))
        assert "A read from Wonde is under way" in start
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the read never finished"
            fragment = school.client.get(reading_url, HTTP_HX_REQUEST="true")
            assert fragment.status_code == 200
            if fragment.get("HX-Redirect"):
                break
            assert "Reading from Wonde…" in text_of(fragment)
            time.sleep(0.2)
        assert fragment["HX-Redirect"] == reading_url
        done = school.client.get(reading_url)
        assert done.status_code == 302 and done["Location"] == school.url + "usernames/"
        assert school.client.get(reading_url)["Location"] == school.url  # a read is taken in once


# -- the live roster kept for the run -----------------------------------------------------------------
def test_a_kept_roster_reads_back_equal(
    ash: LiveSchool, wonde: FakeWonde, sample: SampleSchool, tmp_path: Path
) -> None:
    ash.register_wonde(wonde)
    live = read_roster(ash.school, ["wonde"])
    assert roster_from_json(roster_to_json(live)) == live
    from_file = read_roster(ash.school, [str(write_oneroster(sample, tmp_path / "export.zip"))])
    assert any(person.dob for person in from_file.people)
    assert roster_from_json(roster_to_json(from_file)) == from_file


# -- who may -----------------------------------------------------------------------------------------
def test_only_the_schools_own_admin_reaches_its_connections(
    oak: SyncedSchool, elm: SyncedSchool, teacher: Client, wonde: FakeWonde
) -> None:
    admin = signed_in(oak, oak.admin_email)
    url = SYNC.format(slug="oak")
    register = {
        "live_action": "register",
        "provider": "wonde",
        "school_id": wonde.school_id,
        "base_url": wonde.base_url,
        "token": wonde.token,
    }
    assert admin.post(url, register).status_code == 302
    connection = Connection.objects.get(school=oak.school)

    posts = [register] + [{"live_action": a, "provider": "wonde"} for a in ("check", "test", "use")]
    gets = ["?live=wonde", "?live=wonde&change=1", "?reading=" + "a" * 32]
    for client in (teacher, signed_in(elm, elm.admin_email)):
        for query in gets:
            assert client.get(url + query).status_code == 404
        for data in posts:
            assert client.post(url, data).status_code == 404
    anonymous = Client().post(url, {"live_action": "check", "provider": "wonde"})
    assert anonymous.status_code == 302 and "/oak/" in anonymous["Location"]
    assert Connection.objects.get(pk=connection.pk).options == connection.options
    assert Connection.objects.count() == 1

    # elm's admin sees only elm's (no) connections, and cannot act on oak's through elm's pages
    elm_admin = signed_in(elm, elm.admin_email)
    elm_page = text_of(elm_admin.get(SYNC.format(slug="elm") + "?live=wonde"))
    assert "Set up Wonde" in elm_page and wonde.school_id not in elm_page
    check = elm_admin.post(SYNC.format(slug="elm"), {"live_action": "check", "provider": "wonde"})
    assert "Set up the Wonde connection first." in followed(elm_admin, check)
    # another session cannot take in this admin's read
    admin.post(url, {"live_action": "use", "provider": "wonde"})
    other = signed_in(oak, oak.admin_email)
    folder_token = admin.session[f"missync-sync-read-{oak.school.pk}"]["token"]
    assert other.get(url + "?reading=" + folder_token)["Location"] == url


def test_unknown_providers_and_actions_change_nothing(ash: LiveSchool) -> None:
    for data in (
        {"live_action": "register", "provider": "clever"},
        {"live_action": "delete", "provider": "wonde"},
    ):
        response = ash.client.post(ash.url, data)
        assert response.status_code == 302
        assert "nothing was changed" in followed(ash.client, response)
    assert not Connection.objects.exists()
    assert ash.page("clever").count("not set up yet") == 3  # an unknown provider shows none
