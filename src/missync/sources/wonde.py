"""Wonde (api.wonde.com, v1.0): a school's pupils, staff, classes and registration groups, read live.

One full read is: the school's approved permissions, then students and employees with their includes,
`per_page` at the maximum and cursor paging (offset pages shift when the MIS gains a record mid-read,
and a skipped pupil would look like a leaver). A 2,000-pupil school takes a dozen requests. A delta
(`since`) reads only records updated since then, plus `/deletions`: the roster is then incomplete and
only the deleted ids leave.

Mapping: a pupil's registration group is their `registration` include, else their REGISTRATION group
(schools with no classes); their subject groups are their classes and any group that is not a
REGISTRATION, YEAR or HOUSE group. Staff teach their classes and groups (REGISTRATION ones included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from missync.core.names import clean_name
from missync.core.roster import Group, Person, Problem, Role, Roster, SourceError
from missync.sources.common import PersonEntry, finish_people, sort_problems
from missync.sources.http import HttpOptions, ProviderClient, Reading, report_progress

WONDE_UK = "https://api.wonde.com/v1.0"
MAX_PER_PAGE = 200
PROVIDER = "Wonde"
RECONNECT = (
    "copy the current token from the Wonde portal and register it again "
    "(missync connect SLUG wonde --token-stdin)"
)
# Permissions a user sync cannot do without, and what each lets missync read.
REQUIRED_PERMISSIONS: dict[str, str] = {
    "students.read": "read pupils",
    "employees.read": "read staff",
    "classes.read": "read classes",
    "groups.read": "read groups (registration groups)",
}
# Optional permissions, and what the school loses when it does not approve one.
OPTIONAL_PERMISSIONS: dict[str, str] = {
    "students.upn": "no UPNs: more possible duplicates to resolve by hand, and pupils re-added to the MIS "
    "cannot be matched to their old account",
    "employees.contact_details": "no staff email addresses: staff are not imported (they need an email "
    "for their activation email)",
    "students.date_of_birth": "no dates of birth: possible duplicates are harder to tell apart",
    "students.contact_details": "no pupil email addresses",
}
STUDENT_INCLUDES = ("education_details", "registration", "year", "classes", "groups", "contact_details")
EMPLOYEE_INCLUDES = ("contact_details", "employment_details", "classes", "groups")
_INCLUDE_PERMISSIONS = {"contact_details": "contact_details"}
_NOT_SUBJECT_GROUPS = frozenset({"REGISTRATION", "YEAR", "HOUSE"})
_FIX_MIS = "then sync again."


def wonde_client(token: str, base_url: str = WONDE_UK, options: HttpOptions | None = None) -> ProviderClient:
    """A client for Wonde's API sending the token as a bearer token."""
    return ProviderClient(
        PROVIDER, base_url, options, headers={"Authorization": f"Bearer {token}"}, reconnect=RECONNECT
    )


def school_access(client: ProviderClient, school_id: str) -> dict[str, bool]:
    """Wonde's `{online, approved, audited}` for the school (`GET /meta/schools/{id}`)."""
    body, _ = client.get_json(f"meta/schools/{school_id}", Reading("the school's approval"))
    data = body.get("data", body) if isinstance(body, dict) else {}
    return {key: bool(data.get(key)) for key in ("online", "approved", "audited")}


def permissions(client: ProviderClient, school_id: str) -> dict[str, bool] | None:
    """Each permission the app asked for, and whether the school approved it; None if Wonde won't say."""
    reading = Reading("the school's approved permissions")
    try:
        body, _ = client.get_json(f"meta/schools/{school_id}/permissions", reading)
    except SourceError as error:
        if "HTTP 404" in str(error):
            return None
        raise
    items = body.get("data", []) if isinstance(body, dict) else []
    found: dict[str, bool] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            name = item.get("identifier") or item.get("permission") or item.get("name")
            if isinstance(name, str):
                found[name] = bool(item.get("approved"))
    return found


def request_access(client: ProviderClient, school_id: str, contacts: Sequence[Mapping[str, str]]) -> None:
    """Ask the school to approve the app (`POST /schools/{id}/request-access`)."""
    client.request_json(
        "POST",
        f"schools/{school_id}/request-access",
        Reading("the access request"),
        json={"contacts": list(contacts)},
    )


def fetch_list(
    client: ProviderClient, path: str, what: str, params: Mapping[str, str], permission: str = ""
) -> list[dict[str, Any]]:
    """Every record of a Wonde list, following `meta.pagination.next`; refuses inconsistent paging."""
    records: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    seen_urls: set[str] = set()
    url, query, page = path, dict(params), 1
    while True:
        reading = Reading(what, len(records), permission)
        body, _ = client.get_json(url, reading, query or None)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise client.inconsistent(reading, f"page {page} has no list of records")
        for record in data:
            ident = str(record.get("id", "")) if isinstance(record, dict) else ""
            if not ident or ident in seen_ids:
                raise client.inconsistent(reading, f"page {page} repeats a record of an earlier page")
            seen_ids.add(ident)
            records.append(record)
        report_progress(client.options, what, len(records))
        meta = body.get("meta") or {}
        pagination = meta.get("pagination") if isinstance(meta, dict) else None
        if not isinstance(pagination, dict):
            if page > 1:
                raise client.inconsistent(reading, f"page {page} has no paging information")
            return records
        current = pagination.get("current_page")
        if isinstance(current, int) and current != page:
            raise client.inconsistent(reading, f"page {current} came where page {page} was expected")
        next_url = pagination.get("next")
        if not pagination.get("more", bool(next_url)):
            return records
        if not next_url or not isinstance(next_url, str):
            raise client.inconsistent(reading, "more pages were announced but no link to the next one")
        url = client.follow(next_url, Reading(what, len(records), permission))
        if url in seen_urls:
            raise client.inconsistent(reading, "the link to the next page points to a page already read")
        seen_urls.add(url)
        query, page = {}, page + 1


def read_wonde(
    school_id: str,
    token: str,
    *,
    base_url: str = WONDE_UK,
    since: dt.datetime | None = None,
    home_emails: bool = False,
    options: HttpOptions | None = None,
) -> Roster:
    """Read a school's pupils and staff from Wonde into a `Roster` (source "wonde").

    Full by default (`complete`: anyone absent has left); with `since`, only records updated since then
    and the deletions (`complete=False`, `removed` = the deleted Wonde ids). A missing required
    permission, a rejected token or any failure mid-read raises `SourceError`: nothing partial is
    returned. Optional permissions that are missing become warnings saying what they cost. Staff home
    email addresses are used only with `home_emails`.
    """
    options = options or HttpOptions()
    with wonde_client(token, base_url, options) as client:
        granted = permissions(client, school_id)
        for name, label in REQUIRED_PERMISSIONS.items():
            if granted is not None and not granted.get(name, False):
                raise client.error(
                    f"permission not approved: {label} ({name})",
                    Reading(label),
                    "Fix: ask the school to approve it for missync in the Wonde portal, then sync again.",
                )
        roster = Roster(source="wonde", complete=since is None)
        for name, cost in OPTIONAL_PERMISSIONS.items():
            if granted is not None and not granted.get(name, False):
                roster.problems.append(
                    Problem(
                        f"The school has not approved the Wonde permission {name}: {cost}.",
                        "Fix: ask the school to approve it for missync in the Wonde portal, then sync again.",
                        severity="warning",
                    )
                )
        common = {"per_page": str(MAX_PER_PAGE), "cursor": "true"}
        if since is not None:
            common["updated_after"] = since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        base = f"schools/{school_id}"
        student_includes = _includes(STUDENT_INCLUDES, "students", granted)
        employee_includes = _includes(EMPLOYEE_INCLUDES, "employees", granted)
        students = fetch_list(
            client,
            f"{base}/students",
            "pupils",
            common | {"include": ",".join(student_includes)},
            "read pupils (students.read)",
        )
        employees = fetch_list(
            client,
            f"{base}/employees",
            "staff",
            common | {"include": ",".join(employee_includes)},
            "read staff (employees.read)",
        )
        if since is not None:
            deletions = fetch_list(client, f"{base}/deletions", "deletions", common, "read deletions")
            roster.removed = {
                str(item["id"])
                for item in deletions
                if item.get("type") in ("student", "employee") and not item.get("restored_at")
            }
        entries = [_pupil(record, roster) for record in students]
        entries += [entry for record in employees if (entry := _staff(record, roster, home_emails))]
        finish_people(roster, entries)
        sort_problems(roster)
        kind = "full" if since is None else f"changes since {since:%Y-%m-%d %H:%M}"
        roster.description = f"Wonde school {school_id}, {kind}, {client.requests} requests"
        options.stats.records = len(roster.people)
    return roster


def _includes(names: Sequence[str], resource: str, granted: Mapping[str, bool] | None) -> list[str]:
    """The includes to ask for: those needing a permission the school did not approve are left out."""
    kept = []
    for name in names:
        permission = _INCLUDE_PERMISSIONS.get(name)
        if granted is not None and permission and not granted.get(f"{resource}.{permission}", False):
            continue
        kept.append(name)
    return kept


def _included(record: Mapping[str, Any], name: str) -> Any:
    value = record.get(name)
    return value.get("data") if isinstance(value, dict) else None


def _included_list(record: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = _included(record, name)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def wonde_date(value: Any) -> dt.date | None:
    """The date of a Wonde date object (`{"date": "2015-10-29 00:00:00.000000", ...}`) or string."""
    text = value.get("date") if isinstance(value, dict) else value
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _group(roster: Roster, item: Mapping[str, Any], kind: str) -> str | None:
    key = _text(item.get("id"))
    if not key:
        return None
    name = clean_name(_text(item.get("name"))) or _text(item.get("code")) or key
    registration = kind == "registration"
    roster.add_group(
        Group(key, name, "registration" if registration else "subject", _text(item.get("mis_id")) or key)
    )
    return key


def _person(record: Mapping[str, Any], role: Role, **values: Any) -> Person:
    """A person with Wonde's names: `forename`/`surname` are the names known by, else the legal ones."""
    legal_forename = clean_name(_text(record.get("legal_forename")))
    legal_surname = clean_name(_text(record.get("legal_surname")))
    return Person(
        key=_text(record.get("id")),
        role=role,
        forename=clean_name(_text(record.get("forename"))) or legal_forename,
        surname=clean_name(_text(record.get("surname"))) or legal_surname,
        legal_forename=legal_forename,
        legal_surname=legal_surname,
        upi=_text(record.get("upi")) or None,
        dob=wonde_date(record.get("date_of_birth")),
        **values,
    )


def _pupil(record: Mapping[str, Any], roster: Roster) -> PersonEntry:
    details = _included(record, "education_details") or {}
    registration = _included(record, "registration")
    groups = _included_list(record, "groups")
    if not isinstance(registration, dict):
        registration = next((g for g in groups if _text(g.get("type")).upper() == "REGISTRATION"), None)
    registration_key = _group(roster, registration, "registration") if registration else None
    subject_keys = [_group(roster, item, "subject") for item in _included_list(record, "classes")]
    subject_keys += [
        _group(roster, item, "subject")
        for item in groups
        if _text(item.get("type")).upper() not in _NOT_SUBJECT_GROUPS
    ]
    year = _included(record, "year")
    year_name = _text(year.get("name")) if isinstance(year, dict) else ""
    person = _person(
        record,
        "pupil",
        mis_id=_text(details.get("admission_number")) or _text(record.get("mis_id")) or None,
        upn=_text(details.get("upn")).upper() or None,
        former_upn=_text(details.get("former_upn")).upper() or None,
        email=_email(record, ("work", "email", "primary")),
        year=year_name or _text(details.get("current_nc_year")) or None,
        registration_group=registration_key,
        groups=tuple(dict.fromkeys(key for key in subject_keys if key and key != registration_key)),
    )
    return PersonEntry(person, "Wonde pupils", None, _COLUMNS)


def _staff(record: Mapping[str, Any], roster: Roster, home_emails: bool) -> PersonEntry | None:
    employment = _included(record, "employment_details")
    if isinstance(employment, dict) and employment.get("current") is False:
        return None  # no longer employed at the school: absent, so a full sync archives them
    keys = [_group(roster, item, "subject") for item in _included_list(record, "classes")]
    for item in _included_list(record, "groups"):
        kind = _text(item.get("type")).upper()
        if kind not in ("YEAR", "HOUSE"):
            keys.append(_group(roster, item, "registration" if kind == "REGISTRATION" else "subject"))
    preference = ("work", "email", "primary", "home") if home_emails else ("work", "email", "primary")
    person = _person(
        record,
        "staff",
        mis_id=_text(record.get("mis_id")) or None,
        email=_email(record, preference),
        groups=tuple(dict.fromkeys(key for key in keys if key)),
    )
    return PersonEntry(person, "Wonde staff", None, _COLUMNS)


def _email(record: Mapping[str, Any], preference: Sequence[str]) -> str | None:
    contact = _included(record, "contact_details")
    emails = contact.get("emails") if isinstance(contact, dict) else None
    if not isinstance(emails, dict):
        return None
    return next((_text(emails[kind]) for kind in preference if _text(emails.get(kind))), None)


_COLUMNS = {
    "forename": "forename",
    "surname": "surname",
    "email": "contact details (email)",
    "registration_group": "registration",
    "key": "id",
    "mis_id": "admission number",
    "upn": "UPN",
}
