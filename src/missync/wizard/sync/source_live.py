"""Step 0's other way in: reading the school's MIS live through its data provider, no file.

The first run asks which provider the school uses (Wonde, Xporter on Demand, a OneRoster API) and walks
through registering (`connections.services.register`, and for Wonde `request_access`); from then on the
data source step shows the connection's status (approved, pending, missing permissions and what each
costs) with "Check again", "Test connection", "Change settings" and, once it can sync, "Use this
connection".

"Use this connection" reads the school's roster once, in the background, while a page shows how far
it has got ("Reading from Wonde…"; without JavaScript the page reloads itself). The roster read is kept
for the run beside where uploads are kept (`state.save_live_roster`), so every later step, the summary
and Finish plan on the very roster the admin reviewed, and the provider is not asked again on each page.
A read that fails is shown to the admin in the provider's words and changes nothing: no account, and no
wizard run already in progress.

Everything goes through the data source page's own URL (`sync-start`): a POST with `live_action`
(register, check, test, use), `?live=PROVIDER` to show a provider, `?reading=TOKEN` for a read's
progress. Every lookup is by the school `school_page` found, so one school never reaches another's
connection. Secrets are password inputs never rendered back, and never logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import connections as db_connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import School
from missync.accounts.services import InvalidInput
from missync.connections import services as connection_services
from missync.connections.models import PROVIDER_CHOICES, STATUS_CHOICES, Connection
from missync.core.roster import SourceError

from ..models import SchoolMembership
from .common import page_context
from .forms import PROVIDER_FORMS, ProviderForm, UploadForm
from .state import (
    LIVE_ROSTER_FILE,
    Source,
    WizardState,
    purge_abandoned,
    remove_upload,
    save_live_roster,
    save_state,
    upload_folder,
    write_atomically,
)

logger = logging.getLogger(__name__)

PROVIDER_LABELS = dict(PROVIDER_CHOICES)
STATE_LABELS = dict(STATUS_CHOICES)
LIVE_ACTION = "live_action"
ACTIONS = ("register", "check", "test", "use")
READ_STATUS_FILE = "read.json"
# A read whose progress has not moved for this long died with its server: one page takes at most a few
# tries of 60 s each, and waits a provider asks for of up to 5 minutes between them.
STALE_AFTER_SECONDS = 45 * 60
SECRET_FIELDS = ("token", "school_secret", "client_secret")
READ_FAILED_UNEXPECTEDLY = (
    "Nothing was changed: reading from {provider} stopped with an unexpected error ({kind}). Try again; "
    "if it fails again, tell your missync operator the time it happened."
)


def provider_label(provider: str) -> str:
    return PROVIDER_LABELS.get(provider, provider)


def _start_url(school: School, **query: str) -> str:
    url = reverse("sync-start", args=[school.slug])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def _provider_url(school: School, provider: str, **query: str) -> str:
    return _start_url(school, live=provider, **query) + "#live-source"


# -- the data source page --------------------------------------------------------------------------------
def _default_provider(state: WizardState | None, found: dict[str, Connection]) -> str | None:
    """The provider to show when the admin has not chosen one: this run's, else one that can sync."""
    if state is not None and state.source.is_live:
        return state.source.kind
    ready = [c for c in found.values() if c.status in ("approved", "missing_permissions")]
    chosen = sorted(ready or found.values(), key=lambda c: c.updated_at, reverse=True)
    return chosen[0].provider if chosen else None


def _provider_form(provider: str, connection: Connection | None, data: Any = None) -> ProviderForm:
    """The provider's settings form: blank for a new connection, else its settings (never the secret)."""
    initial = {}
    if connection is not None:
        initial = {key: value for key, value in connection.options.items() if isinstance(value, str)}
        if provider == "xporter" and initial.get("base_url") == connection_services.DEFAULTS[provider].get(
            "base_url"
        ):
            initial.pop("base_url")
    return PROVIDER_FORMS[provider](data, initial=initial, has_secret=connection is not None)


SETTING_LABELS = {
    "school_id": "Wonde school id",
    "establishment": "Establishment number",
    "app_id": "App id",
    "client_id": "Client id",
    "base_url": "API address",
    "token_url": "Token URL",
}


def _details(connection: Connection | None) -> list[tuple[str, str]]:
    """The connection's settings (never its secret) and when it was last checked and read."""
    if connection is None:
        return []
    found = [
        (label, str(connection.options[name]))
        for name, label in SETTING_LABELS.items()
        if connection.options.get(name)
    ]
    when = "%d %b %Y, %H:%M"
    if connection.checked_at:
        found.append(("Last checked", timezone.localtime(connection.checked_at).strftime(when)))
    if connection.last_read_at:
        read = timezone.localtime(connection.last_read_at).strftime(when)
        if connection.last_requests and connection.status != "failed":  # else: the failed read's count
            read += f" ({connection.last_requests} requests)"
        found.append(("Last read", read))
    return found


def _status_message(status: connection_services.ConnectionStatus) -> str:
    """The status in a sentence; missing optional permissions are listed beside it, each with its cost."""
    if status.state == "missing_permissions" and not any(m.required for m in status.missing):
        return "The school has approved missync, but not every permission missync asked for."
    return status.message


def live_context(
    request: HttpRequest,
    school: School,
    state: WizardState | None,
    *,
    selected: str | None = None,
    change: bool = False,
    form: ProviderForm | None = None,
    outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the "Read live from your MIS" part of the data source page shows."""
    found = {c.provider: c for c in Connection.objects.filter(school=school)}
    if selected not in PROVIDER_LABELS:
        selected = _default_provider(state, found)
    providers = []
    for code, label in PROVIDER_CHOICES:
        connection = found.get(code)
        providers.append(
            {
                "code": code,
                "label": label,
                "url": _provider_url(school, code),
                "current": code == selected,
                "state": STATE_LABELS.get(connection.status, connection.status) if connection else "",
            }
        )
    connection = found.get(selected) if selected else None
    status = None
    if connection is not None:
        status = connection_services.stored_status(school, connection.provider)
    show_form = selected is not None and (connection is None or change or form is not None)
    if selected is not None and show_form and form is None:
        form = _provider_form(selected, connection)
    pending = _pending_read(request, school)
    return {
        "providers": providers,
        "selected": selected,
        "label": provider_label(selected) if selected else "",
        "connection": connection,
        "status": status,
        "state_label": STATE_LABELS.get(status.state, status.state) if status else "",
        "message": _status_message(status) if status else "",
        "form": form if show_form else None,
        "changing": connection is not None,
        "outcome": outcome,
        "in_use": state is not None and state.source.kind == selected,
        "action_plain": _start_url(school, live=selected) if selected else _start_url(school),
        "details": _details(connection),
        "run_label": provider_label(state.source.kind) if state is not None else "",
        "change_url": _provider_url(school, selected, change="1") if selected else "",
        "status_url": _provider_url(school, selected) if selected else "",
        "pending": pending,
        "pending_url": _start_url(school, reading=pending["token"]) if pending else "",
        "pending_label": provider_label(pending["provider"]) if pending else "",
    }


def render_start(
    request: HttpRequest,
    school: School,
    membership: SchoolMembership,
    state: WizardState | None,
    *,
    form: UploadForm | None = None,
    errors: list[tuple[str, str]] | None = None,
    live: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The data source page: the upload form and the live providers side by side."""
    if form is None:
        form = UploadForm()
    if live is None:
        live = live_context(
            request, school, state, selected=request.GET.get("live"), change=request.GET.get("change") == "1"
        )
    context = page_context(
        school,
        membership,
        state,
        "source",
        form=form,
        errors=form.error_list() if errors is None else errors,
        live=live,
    )
    return render(request, "missync/sync_start.html", context, status=status)


# -- the actions -----------------------------------------------------------------------------------------
def live_post(
    request: HttpRequest, school: School, membership: SchoolMembership, state: WizardState | None
) -> HttpResponse:
    """A POST from the live part of the data source page (its `live_action` says which)."""
    provider = request.POST.get("provider", "")
    action = request.POST.get(LIVE_ACTION, "")
    if provider not in PROVIDER_LABELS or action not in ACTIONS:
        messages.error(request, "That request was not understood, so nothing was changed.")
        return redirect(_start_url(school))
    connection = Connection.objects.filter(school=school, provider=provider).first()
    if action == "register":
        return _register(request, school, membership, state, provider, connection)
    if connection is None:
        messages.error(request, f"Set up the {provider_label(provider)} connection first.")
        return redirect(_provider_url(school, provider))
    if action == "use":
        return _use(request, school, provider)
    return _check(request, school, membership, state, provider, test=action == "test")


def _register(
    request: HttpRequest,
    school: School,
    membership: SchoolMembership,
    state: WizardState | None,
    provider: str,
    connection: Connection | None,
) -> HttpResponse:
    """Register (or change) the school's connection from the settings form; Wonde then asks for access."""
    form = _provider_form(provider, connection, request.POST)
    label = provider_label(provider)
    given: dict[str, str] = {}
    if form.is_valid():
        given = form.settings()
        moved = connection is not None and any(
            given.get(name, "") != str(connection.options.get(name, "")) for name in given if name != "secret"
        )
        if not given["secret"] and moved:
            # A kept secret is only ever sent where it was entered: a new address or school id needs it again.
            secret_label = form.fields[form.secret_field].label.lower()
            form.add_error(
                form.secret_field,
                f"You changed where missync connects: enter the {secret_label} again for the new settings.",
            )
        elif not given["secret"] and connection is not None:
            kept = decrypt_credential(connection.secret)
            if kept is None:
                form.add_error(
                    form.secret_field,
                    f"The {form.fields[form.secret_field].label.lower()} missync had can no longer be read: "
                    "enter it again.",
                )
            given["secret"] = kept or ""
        if connection is not None and connection.options.get("home_emails"):
            given["home_emails"] = str(connection.options["home_emails"])  # set from the command line
    if not form.errors:
        try:
            connection_services.register(school, provider, given)
        except InvalidInput as error:
            form.add_error(None, f"{error}.")
    if form.errors:
        form.link_errors()
        live = live_context(request, school, state, selected=provider, change=True, form=form)
        return render_start(request, school, membership, state, errors=form.error_list(), live=live)
    status = _after_registering(school, provider)
    said = "saved" if connection is not None else "registered"
    if status.state == "failed":
        messages.error(
            request, f"The {label} connection is {said}, but it does not work yet: {status.message}"
        )
    elif status.state == "pending":
        messages.success(
            request,
            f"The {label} connection is {said}. {status.message} "
            "Use “Check again” to see whether it has been approved.",
        )
    else:
        messages.success(request, f"The {label} connection is {said}. {status.message}")
    return redirect(_provider_url(school, provider))


def _after_registering(school: School, provider: str) -> connection_services.ConnectionStatus:
    """Wonde: ask the school to approve missync. Every provider: check where the connection stands."""
    try:
        if provider == "wonde":
            try:
                return connection_services.request_access(school, provider)
            except SourceError as error:
                status = connection_services.check_status(school, provider)
                if status.state == "failed":
                    status.message = f"missync could not ask the school for access. {error}"
                return status
        return connection_services.check_status(school, provider)
    except InvalidInput as error:
        return connection_services.ConnectionStatus(provider, "failed", f"{error}.")


def _check(
    request: HttpRequest,
    school: School,
    membership: SchoolMembership,
    state: WizardState | None,
    provider: str,
    *,
    test: bool,
) -> HttpResponse:
    """ "Check again" asks the provider where the approval stands; "Test connection" also says whether
    a sync could read the school now, and how long it took."""
    label = provider_label(provider)
    ok, text = True, ""
    try:
        if test:
            result = connection_services.test_connection(school, provider)
            ok = result.ok
            if ok:
                text = (
                    f"Connected to {label} in {result.seconds:.1f} s ({result.status.requests} requests): "
                    "a sync can read the school now."
                )
            else:
                text = f"Cannot sync yet. {result.status.message}"
        else:
            status = connection_services.check_status(school, provider)
            state_label = STATE_LABELS.get(status.state, status.state)
            ok, text = status.state != "failed", f"Checked {label} just now: {state_label.lower()}."
    except InvalidInput as error:
        ok, text = False, f"{error}."
    if request.htmx:  # the live part of the page, replaced in place (the provider list shows the state)
        live = live_context(request, school, state, selected=provider, outcome={"ok": ok, "text": text})
        response = render(request, "missync/sync_source_live.html", {"school": school, "live": live})
        response["Cache-Control"] = "no-store"
        return response
    (messages.success if ok else messages.error)(request, text)
    return redirect(_provider_url(school, provider))


# -- reading live, in the background ---------------------------------------------------------------------
@dataclass
class ReadStatus:
    """How far a live read has got, kept beside it as `READ_STATUS_FILE` (any process can show it)."""

    provider: str
    state: str = "reading"  # reading, done, failed
    what: str = ""  # what is being read: "pupils", "staff"...
    done: int = 0  # records of `what` read so far
    total: int = 0  # records of `what` expected, 0 when the provider does not say
    pages: int = 0  # pages answered so far
    message: str = ""  # why it failed
    description: str = ""  # the roster's description, once read ("..., 12 requests")
    pupils: int = 0
    staff: int = 0
    started: float = 0.0
    updated: float = 0.0

    @property
    def label(self) -> str:
        return provider_label(self.provider)


def _save_status(folder: Path, status: ReadStatus) -> None:
    status.updated = time.time()
    # OSError: the read was abandoned (cancelled, or another read replaced it): nobody is looking.
    with contextlib.suppress(OSError):
        write_atomically(folder / READ_STATUS_FILE, json.dumps(asdict(status)))


def _load_status(folder: Path) -> ReadStatus | None:
    try:
        raw = json.loads((folder / READ_STATUS_FILE).read_text(encoding="utf-8"))
        return ReadStatus(**raw)
    except (OSError, ValueError, TypeError):
        return None


def _pending_key(school: School) -> str:
    return f"missync-sync-read-{school.pk}"


def _pending_read(request: HttpRequest, school: School) -> dict[str, str] | None:
    """The read this admin started and has not yet taken into the wizard (or seen fail)."""
    raw = request.session.get(_pending_key(school))
    if not isinstance(raw, dict) or raw.get("provider") not in PROVIDER_LABELS:
        return None
    try:
        upload_folder(school, str(raw.get("token", "")))
    except ValueError:
        return None
    return {"token": str(raw["token"]), "provider": str(raw["provider"])}


def drop_pending_read(request: HttpRequest, school: School) -> None:
    """Forget a read not taken into the wizard, and remove what it read (or is still reading)."""
    pending = _pending_read(request, school)
    if pending is not None:
        shutil.rmtree(upload_folder(school, pending["token"]), ignore_errors=True)
    request.session.pop(_pending_key(school), None)


def _use(request: HttpRequest, school: School, provider: str) -> HttpResponse:
    """ "Use this connection": start reading the school's roster; the reading page shows how far it is."""
    status = connection_services.stored_status(school, provider)
    if not status.can_sync:
        messages.error(
            request,
            f"{provider_label(provider)} cannot be read yet: {status.message} Check again once the school "
            "has approved missync.",
        )
        return redirect(_provider_url(school, provider))
    drop_pending_read(request, school)
    purge_abandoned(school)
    token = secrets.token_hex(16)
    folder = upload_folder(school, token)
    folder.mkdir(parents=True, exist_ok=False)
    _save_status(folder, ReadStatus(provider, started=time.time()))
    request.session[_pending_key(school)] = {"token": token, "provider": provider}
    args = (school.pk, provider, folder)
    if getattr(settings, "MISSYNC_SYNC_JOBS_INLINE", False):
        run_read(*args)
    else:
        thread = threading.Thread(target=_read_main, args=args, name=f"missync-read-{provider}", daemon=True)
        thread.start()
    return redirect(_start_url(school, reading=token))


def _read_main(*args: Any) -> None:
    try:
        run_read(*args)
    finally:
        db_connections.close_all()  # this thread's own database connections


def run_read(school_id: int, provider: str, folder: Path) -> None:
    """Read the school's roster through its connection into `folder`, keeping `READ_STATUS_FILE` up to
    date. Never raises: a failure is recorded there, in the provider's words, and nothing is kept."""
    status = ReadStatus(provider, started=time.time())
    last_saved = 0.0

    def progress(what: str, done: int, total: int) -> None:
        nonlocal last_saved
        status.what, status.done, status.total, status.pages = what, done, total, status.pages + 1
        if time.monotonic() - last_saved >= 0.2:  # often enough for a page polling every second
            last_saved = time.monotonic()
            _save_status(folder, status)

    try:
        school = School.objects.get(pk=school_id)
        roster = connection_services.read_connection(school, provider, progress)
        if not any(person.role in ("pupil", "staff") for person in roster.people):
            raise SourceError(
                f"{status.label} answered with no pupils or staff for this school; nothing was changed. "
                "Check that the connection is for the right school, and that the school has approved missync."
            )
        save_live_roster(folder, roster)
    except (SourceError, InvalidInput) as error:
        status.state, status.message = "failed", str(error)
    except Exception as error:  # the admin gets a clear message; the log gets no names or secrets
        logger.error("reading %s for school %s failed with %s", provider, school_id, type(error).__name__)
        status.state = "failed"
        status.message = READ_FAILED_UNEXPECTEDLY.format(provider=status.label, kind=type(error).__name__)
    else:
        status.state = "done"
        status.description = roster.description
        status.pupils = sum(1 for person in roster.people if person.role == "pupil")
        status.staff = sum(1 for person in roster.people if person.role == "staff")
    _save_status(folder, status)


def reading(
    request: HttpRequest, school: School, membership: SchoolMembership, state: WizardState | None
) -> HttpResponse:
    """`?reading=TOKEN`: the read's progress while it runs (the page polls a fragment with htmx, or
    reloads itself without JavaScript); then the wizard's next step, or the failure and nothing changed."""
    pending = _pending_read(request, school)
    token = request.GET.get("reading", "")
    start = _start_url(school)
    if pending is None or pending["token"] != token:
        return HttpResponseClientRedirect(start) if request.htmx else redirect(start)
    folder = upload_folder(school, token)
    status = _load_status(folder)
    if status is None:
        status = ReadStatus(pending["provider"], state="failed")
        status.message = (
            f"The read from {status.label} was lost before it finished; nothing was changed. Read it again."
        )
    elif status.state == "reading" and time.time() - status.updated > STALE_AFTER_SECONDS:
        status.state = "failed"
        status.message = (
            f"The read from {status.label} stopped without finishing (was missync restarted?); nothing was "
            "changed. Read it again."
        )
    if status.state == "reading":
        context = {"school": school, "read": status, "poll_url": _start_url(school, reading=token)}
        if request.htmx:
            response = render(request, "missync/sync_source_progress.html", context)
        else:
            context |= page_context(school, membership, state, "source", read=status)
            response = render(request, "missync/sync_source_reading.html", context)
        response["Cache-Control"] = "no-store"
        return response
    if request.htmx:  # the whole page takes it from here
        return HttpResponseClientRedirect(_start_url(school, reading=token))
    request.session.pop(_pending_key(school), None)
    if status.state == "done" and (folder / LIVE_ROSTER_FILE).is_file():
        if state is not None:
            remove_upload(school, state.source)  # an earlier upload or read: replaced, as a new upload does
        source = Source(status.provider, token, [LIVE_ROSTER_FILE], [status.description or status.label])
        save_state(request, school, WizardState.start(school, source))
        messages.success(
            request,
            f"Read from {status.label}: {status.pupils} pupils and {status.staff} staff "
            f"({status.description}). Nothing has been written yet.",
        )
        return redirect("sync-usernames", school.slug)
    shutil.rmtree(folder, ignore_errors=True)
    message = status.message or f"The read from {status.label} failed; nothing was changed."
    live = live_context(request, school, state, selected=status.provider)
    response = render_start(request, school, membership, state, errors=[("", message)], live=live)
    response["Cache-Control"] = "no-store"
    return response
