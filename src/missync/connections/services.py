"""What the wizard and the CLI do with a school's live MIS connection: register, request access, check
its status, test it, and read the school's roster through it.

Secrets (a Wonde token, an Xporter school secret, a OneRoster client secret) are encrypted before they
reach the database and are never printed or logged. Every provider failure is a `SourceError` whose one
line says what happened and that nothing was changed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone

from missync.accounts.crypto import decrypt_credential, encrypt_credential
from missync.accounts.models import School
from missync.accounts.services import InvalidInput
from missync.core.roster import Roster, SourceError
from missync.sources import oneroster_api, wonde, xporter
from missync.sources.http import HttpOptions, Progress, Reading, check_base_url

from .models import PROVIDER_CHOICES, Connection

PROVIDERS = tuple(code for code, _ in PROVIDER_CHOICES)
# The settings each provider needs (besides its secret), and the defaults of the others.
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "wonde": ("school_id",),
    "xporter": ("establishment", "app_id"),
    "oneroster-api": ("base_url", "client_id"),
}
DEFAULTS: dict[str, dict[str, str]] = {
    "wonde": {"base_url": wonde.WONDE_UK},
    "xporter": {"base_url": xporter.XPORTER_API, "login_url": xporter.XPORTER_LOGIN},
    "oneroster-api": {},
}
KNOWN_SETTINGS = frozenset({"school_id", "establishment", "app_id", "client_id", "base_url", "login_url"}) | {
    "token_url",
    "home_emails",
}
SECRET_NAMES = {"wonde": "token", "xporter": "school secret", "oneroster-api": "client secret"}
_REQUIRED_COST = "required: the school's users cannot be read without it"


@dataclass(frozen=True)
class MissingPermission:
    """A permission (scope) the school has not approved, and what the school loses without it."""

    name: str
    cost: str
    required: bool = False


@dataclass
class ConnectionStatus:
    """Where a school's registration with a provider stands, as the wizard and `connection status` show.

    `state` is approved, pending, missing_permissions or failed; `can_sync` is False while pending,
    failed, or missing a required permission.
    """

    provider: str
    state: str
    message: str
    missing: list[MissingPermission] = field(default_factory=list)
    checked_at: dt.datetime | None = None
    requests: int = 0
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def can_sync(self) -> bool:
        return self.state in ("approved", "missing_permissions") and not any(m.required for m in self.missing)

    def as_dict(self) -> dict[str, Any]:
        """As `connection status --json` prints it (no secrets: they are not held here)."""
        found = asdict(self)
        found["checked_at"] = self.checked_at.isoformat() if self.checked_at else None
        found["can_sync"] = self.can_sync
        return found


@dataclass
class ConnectionTest:
    """The outcome of "test connection": whether a sync could read the school now, and how long it took."""

    ok: bool
    message: str
    status: ConnectionStatus
    seconds: float


def http_options(progress: Progress | None = None) -> HttpOptions:
    """The HTTP options every provider call here uses (tests replace this to inject a fast `sleep`)."""
    return HttpOptions(progress=progress)


# -- registering --------------------------------------------------------------------------------------
def _check_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider '{provider}': choose one of {', '.join(PROVIDERS)}")
    return provider


def register(school: School, provider: str, settings: Mapping[str, str]) -> Connection:
    """Create or replace the school's connection to `provider`, status pending until checked.

    `settings` holds the provider's settings and its secret under "secret" (a Wonde token, an Xporter
    school secret, a OneRoster client secret). Checked before anything is saved.
    """
    _check_provider(provider)
    given = {
        key: str(value).strip() for key, value in settings.items() if value is not None and str(value).strip()
    }
    secret = given.pop("secret", "")
    if not secret:
        raise InvalidInput(f"a {provider} connection needs its {SECRET_NAMES[provider]}")
    unknown = sorted(set(given) - KNOWN_SETTINGS)
    if unknown:
        raise InvalidInput(f"unknown setting(s) for {provider}: {', '.join(unknown)}")
    missing = [name for name in REQUIRED_SETTINGS[provider] if not given.get(name)]
    if missing:
        options = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise InvalidInput(f"a {provider} connection needs {options}")
    options = DEFAULTS[provider] | given
    if provider == "xporter" and "base_url" in given and "login_url" not in given:
        options["login_url"] = given["base_url"]  # a provider (or a fake) serving both from one address
    try:
        for name in ("base_url", "login_url", "token_url"):
            if name in options:
                options[name] = check_base_url(options[name], provider)
    except SourceError as error:
        raise InvalidInput(str(error)) from None
    if provider == "xporter" and not options["establishment"].isdigit():
        raise InvalidInput("the Xporter establishment is the school's DfE number: digits only, e.g. 2134567")
    connection, _ = Connection.objects.update_or_create(
        school=school,
        provider=provider,
        defaults={
            "options": options,
            "secret": encrypt_credential(secret),
            "status": "pending",
            "message": "Registered; not checked yet.",
            "missing_permissions": [],
            "checked_at": None,
        },
    )
    return connection


def get_connection(school: School, provider: str) -> Connection:
    """The school's connection to `provider`; `InvalidInput` saying how to register one if there is none."""
    _check_provider(provider)
    found = Connection.objects.filter(school=school, provider=provider).first()
    if found is None:
        raise InvalidInput(
            f"school '{school.slug}' has no {provider} connection: register one with "
            f"`missync connect {school.slug} {provider} ...`"
        )
    return found


def _secret(connection: Connection) -> str:
    secret = decrypt_credential(connection.secret)
    if secret is None:
        raise InvalidInput(
            f"the stored {SECRET_NAMES[connection.provider]} cannot be decrypted (was the credential key "
            f"changed?): register the {connection.provider} connection again"
        )
    return secret


def _wonde_client(connection: Connection, options: HttpOptions) -> Any:
    return wonde.wonde_client(_secret(connection), connection.options["base_url"], options)


# -- access and status --------------------------------------------------------------------------------
def request_access(
    school: School, provider: str = "wonde", contacts: Sequence[Mapping[str, str]] = ()
) -> ConnectionStatus:
    """Ask the school to approve missync (Wonde only: Xporter and OneRoster are approved by the school
    in their own portals), then return the connection's status."""
    connection = get_connection(school, provider)
    if provider != "wonde":
        raise InvalidInput(
            f"{provider} has no access request: the school authorises missync in the provider's own portal"
        )
    options = http_options()
    with _wonde_client(connection, options) as client:
        wonde.request_access(client, connection.options["school_id"], contacts)
    return check_status(school, provider)


def check_status(school: School, provider: str) -> ConnectionStatus:
    """Ask the provider where the school's approval stands and remember the answer on the connection."""
    connection = get_connection(school, provider)
    options = http_options()
    try:
        checker = {"wonde": _wonde_status, "xporter": _xporter_status, "oneroster-api": _oneroster_status}
        state, message, missing = checker[provider](connection, options)
    except SourceError as error:
        state, message, missing = "failed", str(error), []
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        status=state,
        message=message,
        missing_permissions=[asdict(m) for m in missing],
        checked_at=now,
    )
    return ConnectionStatus(
        provider,
        state,
        message,
        missing,
        now,
        options.stats.requests,
        {k: v for k, v in connection.options.items() if k != "home_emails"},
    )


def stored_status(school: School, provider: str) -> ConnectionStatus:
    """The status last checked, without asking the provider."""
    connection = get_connection(school, provider)
    missing = [MissingPermission(**item) for item in connection.missing_permissions or []]
    return ConnectionStatus(
        provider,
        connection.status,
        connection.message,
        missing,
        connection.checked_at,
        0,
        dict(connection.options),
    )


def _state(missing: list[MissingPermission], ok: str) -> tuple[str, str, list[MissingPermission]]:
    if not missing:
        return "approved", ok, missing
    required = [m.name for m in missing if m.required]
    if required:
        message = f"The school has not approved {', '.join(required)}: missync cannot sync until it does."
    else:
        message = f"{ok} Some optional permissions are missing: " + "; ".join(
            f"{m.name}: {m.cost}" for m in missing
        )
    return "missing_permissions", message, missing


def _wonde_status(connection: Connection, options: HttpOptions) -> tuple[str, str, list[MissingPermission]]:
    school_id = connection.options["school_id"]
    with _wonde_client(connection, options) as client:
        access = wonde.school_access(client, school_id)
        if not access["approved"]:
            return "pending", "Waiting for the school to approve missync in the Wonde portal.", []
        granted = wonde.permissions(client, school_id) or {}
    missing = [
        MissingPermission(name, f"{label}: {_REQUIRED_COST}", True)
        for name, label in wonde.REQUIRED_PERMISSIONS.items()
        if not granted.get(name, False)
    ]
    missing += [
        MissingPermission(name, cost)
        for name, cost in wonde.OPTIONAL_PERMISSIONS.items()
        if not granted.get(name, False)
    ]
    return _state(missing, "The school has approved missync.")


def _xporter_client(connection: Connection, options: HttpOptions) -> Any:
    settings = connection.options
    return xporter.xporter_client(
        settings["establishment"],
        settings["app_id"],
        _secret(connection),
        base_url=settings["base_url"],
        login_url=settings.get("login_url"),
        options=options,
    )


def _xporter_status(connection: Connection, options: HttpOptions) -> tuple[str, str, list[MissingPermission]]:
    estab = connection.options["establishment"]
    try:
        client = _xporter_client(connection, options)
    except SourceError as error:
        if "rejected" in str(error):
            message = (
                "Xporter did not accept the school secret: either the school has not authorised missync yet "
                "(it does so in the Groupcall portal, which issues the secret) or the secret was re-issued. "
                "Register the current secret once the school has authorised missync."
            )
            return "pending", message, []
        raise
    missing: list[MissingPermission] = []
    with client:
        for resource, scope in (
            ("Students", "StudentLite"),
            ("Staff", "StaffLite"),
            ("Groups", "SchoolLite"),
        ):
            try:
                body, _ = client.get_json(
                    f"api/v1/School/{estab}/{resource}/", Reading(resource), {"page": "1", "pageSize": "1"}
                )
            except SourceError as error:
                if "permission not approved" not in str(error):
                    raise
                missing.append(MissingPermission(scope, _REQUIRED_COST, True))
                continue
            records = body.get(resource) if isinstance(body, dict) else None
            if resource == "Students" and isinstance(records, list) and records:
                for scope_name, field_name in (("UPN", "UPN"), ("StudentExtended", "DateofBirth")):
                    if field_name not in records[0]:
                        missing.append(MissingPermission(scope_name, xporter.OPTIONAL_SCOPES[scope_name]))
    return _state(missing, "The school has authorised missync.")


def _oneroster_status(
    connection: Connection, options: HttpOptions
) -> tuple[str, str, list[MissingPermission]]:
    settings = connection.options
    with oneroster_api.oneroster_client(
        settings["base_url"],
        settings["client_id"],
        _secret(connection),
        token_url=settings.get("token_url"),
        options=options,
    ) as client:
        client.get_json("users", Reading("people"), {"limit": "1", "offset": "0"})
    return "approved", "The OneRoster API accepted missync's client credentials.", []


def test_connection(school: School, provider: str) -> ConnectionTest:
    """Check the connection now: can a sync read the school? Says why not, in one line, when it cannot."""
    started = time.monotonic()
    status = check_status(school, provider)
    seconds = time.monotonic() - started
    if status.can_sync:
        message = f"{provider}: connected in {seconds:.1f}s ({status.requests} requests). {status.message}"
        return ConnectionTest(True, message, status, seconds)
    return ConnectionTest(False, f"{provider}: cannot sync yet. {status.message}", status, seconds)


test_connection.__test__ = False  # type: ignore[attr-defined]  # a service, not a test, when imported in tests


# -- reading ------------------------------------------------------------------------------------------
def read_connection(
    school: School,
    provider: str,
    progress: Progress | None = None,
    *,
    since: dt.datetime | None = None,
) -> Roster:
    """Read the school's roster live through its connection: a full read, or changes `since` a moment.

    Raises `SourceError` (nothing partial is ever returned) and `InvalidInput` when the school has no
    such connection. The number of requests is in the roster's description and on the connection.
    """
    connection = get_connection(school, provider)
    settings = connection.options
    options = http_options(progress)
    started = timezone.now()
    home_emails = str(settings.get("home_emails", "")).lower() in ("1", "true", "yes")
    try:
        if provider == "wonde":
            roster = wonde.read_wonde(
                settings["school_id"],
                _secret(connection),
                base_url=settings["base_url"],
                since=since,
                home_emails=home_emails,
                options=options,
            )
        elif provider == "xporter":
            roster = xporter.read_xporter(
                settings["establishment"],
                settings["app_id"],
                _secret(connection),
                base_url=settings["base_url"],
                login_url=settings.get("login_url"),
                since=since,
                home_emails=home_emails,
                options=options,
            )
        else:
            roster = oneroster_api.read_oneroster_api(
                settings["base_url"],
                settings["client_id"],
                _secret(connection),
                token_url=settings.get("token_url"),
                since=since,
                options=options,
            )
    except SourceError as error:
        Connection.objects.filter(pk=connection.pk).update(
            status="failed",
            message=str(error),
            checked_at=timezone.now(),
            last_requests=options.stats.requests,
        )
        raise
    Connection.objects.filter(pk=connection.pk).update(
        last_read_at=started, last_requests=options.stats.requests
    )
    return roster
