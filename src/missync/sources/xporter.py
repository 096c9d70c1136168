"""Groupcall Xporter on Demand: a school's pupils, staff and groups, read live.

A token comes from the Groupcall login service (establishment, app id, school secret); then Students,
Staff (current) and Groups (registration, year and teaching groups, with their members' ids) are read
page by page. A delta (`since`) reads records updated since then and the `*_deleted` lists.

Mapping: `Id` is the person's key, `AdmissionNo` (pupils) or `StaffCode` (staff) their MIS id; a
pupil's registration group is `RegGroupId`; subject groups are TeachingGrp groups the pupil is a member
of; staff teach the registration and teaching groups listing them as staff members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from missync.core.names import clean_name
from missync.core.roster import Group, Person, Problem, Roster, SourceError
from missync.sources.common import PersonEntry, finish_people, sort_problems
from missync.sources.http import HttpOptions, ProviderClient, Reading, check_base_url, report_progress

XPORTER_API = "https://xporter.groupcall.com"
XPORTER_LOGIN = "https://login.groupcall.com"
PAGE_SIZE = 1000
PROVIDER = "Xporter on Demand"
RECONNECT = (
    "re-authorise missync in the Groupcall portal and register the new school secret "
    "(missync connect SLUG xporter --token-stdin)"
)
# Scopes the school can approve, and what the school loses without each optional one.
REQUIRED_SCOPES = ("SchoolLite", "StaffLite", "StudentLite")
OPTIONAL_SCOPES: dict[str, str] = {
    "UPN": "no UPNs: more possible duplicates to resolve by hand",
    "StudentExtended": "no dates of birth: possible duplicates are harder to tell apart",
    "StaffPersonalContact": "no home email addresses for staff without a work address",
}
_COLUMNS = {
    "forename": "Forename",
    "surname": "Surname",
    "email": "WorkEmail",
    "registration_group": "RegGroup",
    "key": "Id",
    "mis_id": "AdmissionNo",
    "upn": "UPN",
}


def xporter_token(
    establishment: str,
    app_id: str,
    secret: str,
    *,
    login_url: str = XPORTER_LOGIN,
    options: HttpOptions | None = None,
) -> str:
    """A token for the school's data (`POST {login}/idaas/sts/STS/GetToken`); `SourceError` if refused."""
    with ProviderClient(PROVIDER, login_url, options, reconnect=RECONNECT) as login:
        body, _ = login.request_json(
            "POST",
            "idaas/sts/STS/GetToken",
            Reading("a token"),
            json={
                "estab": establishment,
                "relyingParty": app_id,
                "password": secret,
                "thirdpartyid": "XporterOnDemand",
            },
        )
    token = None
    if isinstance(body, dict):
        token = next(
            (body[k] for k in ("token", "Token", "AccessToken", "access_token") if body.get(k)), None
        )
    if not isinstance(token, str):
        raise SourceError(f"{PROVIDER}: the login service answered without a token; nothing was changed.")
    return token


def xporter_client(
    establishment: str,
    app_id: str,
    secret: str,
    *,
    base_url: str = XPORTER_API,
    login_url: str | None = None,
    options: HttpOptions | None = None,
) -> ProviderClient:
    """A client for the school's data, holding a fresh token (fetched again once if it expires)."""
    options = options or HttpOptions()
    login = login_url or XPORTER_LOGIN

    def token_header() -> dict[str, str]:
        return {
            "Authorization": "Idaas "
            + xporter_token(establishment, app_id, secret, login_url=login, options=options)
        }

    return ProviderClient(
        PROVIDER, base_url, options, headers=token_header(), reconnect=RECONNECT, reauthorise=token_header
    )


def fetch_pages(
    client: ProviderClient, path: str, key: str, what: str, params: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every record of one Xporter list (and the first page's other keys, such as `*_deleted`)."""
    records: list[dict[str, Any]] = []
    url, query, page = client.url(path), {**params, "page": "1", "pageSize": str(PAGE_SIZE)}, 1
    first: dict[str, Any] = {}
    announced: tuple[int, int] | None = None
    while True:
        reading = Reading(what, len(records), f"read {what}")
        body, _ = client.get_json(url, reading, query)
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise client.inconsistent(reading, f"page {page} has no {key} list")
        records += [item for item in items if isinstance(item, dict)]
        first = first or body
        report_progress(client.options, what, len(records), announced[1] if announced else 0)
        paging = (body.get("__pagination__") or [{}])[0]
        if not isinstance(paging, dict) or "PageCount" not in paging:
            if page > 1:
                raise client.inconsistent(reading, f"page {page} has no paging information")
            return records, first
        number, count, rows = (int(paging.get(k) or 0) for k in ("PageNumber", "PageCount", "RowCount"))
        if number != page:
            raise client.inconsistent(reading, f"page {number} came where page {page} was expected")
        if announced is not None and announced != (count, rows):
            raise client.inconsistent(
                reading, f"the total changed from {announced[1]} to {rows} records while reading"
            )
        announced = (count, rows)
        if page >= count:
            if len(records) != rows:
                raise client.inconsistent(reading, f"{rows} records were announced but {len(records)} came")
            return records, first
        next_page = paging.get("NextPage")
        if not isinstance(next_page, str) or not next_page:
            raise client.inconsistent(reading, f"page {page} of {count} has no link to the next page")
        # The next page is asked for with the same filters; its link must stay on the provider's host.
        linked = parse_qs(urlsplit(client.follow(urljoin(url, next_page), reading)).query).get("page", [""])[
            0
        ]
        page += 1
        if linked and linked != str(page):
            raise client.inconsistent(reading, f"the link after page {page - 1} leads to page {linked}")
        query = {**query, "page": str(page)}


def read_xporter(
    establishment: str,
    app_id: str,
    secret: str,
    *,
    base_url: str = XPORTER_API,
    login_url: str | None = None,
    since: dt.datetime | None = None,
    home_emails: bool = False,
    options: HttpOptions | None = None,
) -> Roster:
    """Read a school's pupils, staff and groups from Xporter on Demand into a `Roster` ("xporter").

    Full by default; with `since`, a delta (`complete=False`, `removed` = the deleted ids). Any failure
    raises `SourceError` and returns nothing partial. Staff home emails are used only with `home_emails`.
    """
    options = options or HttpOptions()
    check_base_url(base_url, PROVIDER)
    with xporter_client(
        establishment, app_id, secret, base_url=base_url, login_url=login_url or base_url, options=options
    ) as client:
        school = f"api/v1/School/{establishment}"
        changed = {"updatedSince": since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")} if since else {}
        students, student_extra = fetch_pages(
            client, f"{school}/Students/", "Students", "pupils", changed | {"studentStatus": "OnRoll"}
        )
        staff, staff_extra = fetch_pages(
            client, f"{school}/Staff/", "Staff", "staff", changed | {"staffStatus": "Current"}
        )
        options_value = "includeMembersIds,includeStudentMembers,includeStaffMembers"
        groups, _ = fetch_pages(client, f"{school}/Groups/", "Groups", "groups", {"options": options_value})
        roster = Roster(source="xporter", complete=since is None)
        if since is not None:
            roster.removed = _deleted(student_extra.get("Students_deleted")) | _deleted(
                staff_extra.get("Staff_deleted")
            )
        _scope_warnings(roster, students)
        subject_of, taught_by = _groups(roster, groups)
        entries = [_pupil(record, roster, subject_of) for record in students]
        entries += [_staff(record, taught_by, home_emails) for record in staff]
        finish_people(roster, entries)
        sort_problems(roster)
        kind = "full" if since is None else f"changes since {since:%Y-%m-%d %H:%M}"
        roster.description = f"Xporter on Demand school {establishment}, {kind}, {client.requests} requests"
        options.stats.records = len(roster.people)
    return roster


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _deleted(items: Any) -> set[str]:
    found = set()
    for item in items if isinstance(items, list) else []:
        ident = item.get("Id") if isinstance(item, dict) else item
        if _text(ident):
            found.add(_text(ident))
    return found


def _scope_warnings(roster: Roster, students: list[dict[str, Any]]) -> None:
    checks = (("UPN", "UPN"), ("StudentExtended", "DateofBirth"))
    for scope, field_name in checks:
        if students and all(field_name not in record for record in students):
            roster.problems.append(
                Problem(
                    f"The school has not approved the Xporter scope {scope}: {OPTIONAL_SCOPES[scope]}.",
                    "Fix: ask the school to approve it for missync in the Groupcall portal, then sync again.",
                    severity="warning",
                )
            )


def _groups(
    roster: Roster, groups: list[dict[str, Any]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Add registration and teaching groups; return pupil id -> subject groups, staff id -> groups taught."""
    subject_of: dict[str, list[str]] = {}
    taught_by: dict[str, list[str]] = {}
    for item in groups:
        kind = _text(item.get("Type"))
        if kind not in ("RegGrp", "TeachingGrp"):
            continue  # year and house groups are not classes; a pupil's year comes with the pupil
        key = _text(item.get("Id"))
        name = clean_name(_text(item.get("Name"))) or _text(item.get("Code")) or key
        registration = kind == "RegGrp"
        roster.add_group(
            Group(
                key, name, "registration" if registration else "subject", _text(item.get("ExternalId")) or key
            )
        )
        if not registration:
            for pupil in item.get("StudentIds") or []:
                subject_of.setdefault(_text(pupil), []).append(key)
        staff = [_text(s) for s in item.get("StaffIds") or []]
        if item.get("PrimaryStaffId") is not None:
            staff.append(_text(item["PrimaryStaffId"]))
        for member in dict.fromkeys(staff):
            taught_by.setdefault(member, []).append(key)
    return subject_of, taught_by


def _names(record: Mapping[str, Any]) -> dict[str, str]:
    legal_forename, legal_surname = (
        clean_name(_text(record.get("LegalForename"))),
        clean_name(_text(record.get("LegalSurname"))),
    )
    return {
        "forename": clean_name(_text(record.get("Forename"))) or legal_forename,
        "surname": clean_name(_text(record.get("Surname"))) or legal_surname,
        "legal_forename": legal_forename,
        "legal_surname": legal_surname,
    }


def _date(value: Any) -> dt.date | None:
    text = _text(value)
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def _pupil(record: Mapping[str, Any], roster: Roster, subject_of: Mapping[str, list[str]]) -> PersonEntry:
    key = _text(record.get("Id"))
    registration = _text(record.get("RegGroupId")) or None
    if registration and registration not in roster.groups and _text(record.get("RegGroup")):
        # A registration group missing from Groups (e.g. read in a delta): named as the pupil says.
        name = clean_name(_text(record.get("RegGroup")))
        roster.add_group(Group(registration, name, "registration", registration))
    names = _names(record)
    person = Person(
        key=key,
        role="pupil",
        forename=names["forename"],
        surname=names["surname"],
        legal_forename=names["legal_forename"],
        legal_surname=names["legal_surname"],
        mis_id=_text(record.get("AdmissionNo")) or None,
        upn=_text(record.get("UPN")).upper() or None,
        email=_text(record.get("WorkEmail")) or None,
        year=_text(record.get("YearGroup")) or None,
        registration_group=registration,
        groups=tuple(dict.fromkeys(g for g in subject_of.get(key, []) if g != registration)),
        dob=_date(record.get("DateofBirth")),
    )
    return PersonEntry(person, "Xporter Students", None, _COLUMNS)


def _staff(record: Mapping[str, Any], taught_by: Mapping[str, list[str]], home_emails: bool) -> PersonEntry:
    key = _text(record.get("Id"))
    email = _text(record.get("WorkEmail")) or (_text(record.get("HomeEmail")) if home_emails else "")
    names = _names(record)
    person = Person(
        key=key,
        role="staff",
        forename=names["forename"],
        surname=names["surname"],
        legal_forename=names["legal_forename"],
        legal_surname=names["legal_surname"],
        mis_id=_text(record.get("StaffCode")) or None,
        email=email or None,
        groups=tuple(dict.fromkeys(taught_by.get(key, []))),
    )
    return PersonEntry(person, "Xporter Staff", None, _COLUMNS | {"mis_id": "StaffCode"})
