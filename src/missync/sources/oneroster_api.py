"""OneRoster 1.1 REST (`/ims/oneroster/v1p1`): users, classes, enrolments and demographics, read live.

OAuth2 client credentials give a bearer token (fetched again once if it expires mid-read). Each
collection is read with `limit`/`offset`, and the pages must add up to `X-Total-Count`. A delta
(`since`) reads users changed since then (`filter=dateLastModified>'...'`), with those marked
tobedeleted as leavers.

The records are restated as the OneRoster CSV set they stand for and read by the OneRoster CSV reader,
so a school gets the same people, classes and problems whether its provider sends files or answers
requests; problems then name the API collection ("users (OneRoster API)") instead of a CSV file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from missync.core.roster import Problem, Roster, SourceError
from missync.sources.http import HttpOptions, ProviderClient, Reading, check_base_url, report_progress
from missync.sources.oneroster import read_oneroster

ONEROSTER_PATH = "/ims/oneroster/v1p1"
PAGE_LIMIT = 1000
PROVIDER = "The OneRoster API"
RECONNECT = "check the client id and secret with the provider and register them again"
_COLUMNS = {
    "users": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
    "primary,beginDate,endDate",
    "demographics": "sourcedId,status,dateLastModified,birthDate,sex",
}
_WHAT = {
    "users": "people",
    "classes": "classes",
    "enrollments": "enrolments",
    "demographics": "dates of birth",
}


def api_root(base_url: str) -> str:
    """The OneRoster root URL: the base URL, with `/ims/oneroster/v1p1` added unless already there."""
    base = check_base_url(base_url, PROVIDER)
    return base if base.endswith(ONEROSTER_PATH) else base + ONEROSTER_PATH


def default_token_url(base_url: str) -> str:
    """Where the token is asked for when the connection does not say: `<server>/oauth/token`."""
    root = api_root(base_url)
    return root.removesuffix(ONEROSTER_PATH) + "/oauth/token"


def oneroster_token(token_url: str, client_id: str, secret: str, options: HttpOptions | None = None) -> str:
    """An access token by OAuth2 client credentials (HTTP Basic client authentication)."""
    with ProviderClient(PROVIDER, token_url, options, reconnect=RECONNECT) as login:
        body, _ = login.request_json(
            "POST",
            token_url,
            Reading("a token"),
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise SourceError(f"{PROVIDER}: the token service answered without a token; nothing was changed.")
    return token


def oneroster_client(
    base_url: str,
    client_id: str,
    secret: str,
    *,
    token_url: str | None = None,
    options: HttpOptions | None = None,
) -> ProviderClient:
    """A client for the OneRoster API holding a fresh token."""
    options = options or HttpOptions()
    where = token_url or default_token_url(base_url)

    def bearer() -> dict[str, str]:
        return {"Authorization": "Bearer " + oneroster_token(where, client_id, secret, options)}

    return ProviderClient(
        PROVIDER, api_root(base_url), options, headers=bearer(), reconnect=RECONNECT, reauthorise=bearer
    )


def fetch_collection(
    client: ProviderClient, collection: str, params: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every record of a collection, by limit/offset; the pages must add up to X-Total-Count."""
    what = _WHAT.get(collection, collection)
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    total: int | None = None
    while True:
        reading = Reading(what, len(records), f"read {collection}")
        query = {**(params or {}), "limit": str(PAGE_LIMIT), "offset": str(len(records))}
        body, headers = client.get_json(collection, reading, query)
        page = body.get(collection) if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise client.inconsistent(reading, f"an answer has no {collection} list")
        announced = headers.get("X-Total-Count")
        if announced is not None and announced.strip().isdigit():
            if total is not None and int(announced) != total:
                raise client.inconsistent(reading, f"the total changed from {total} to {announced}")
            total = int(announced)
        for record in page:
            key = str(record.get("sourcedId", "")) if isinstance(record, dict) else ""
            if not key or key in seen:
                raise client.inconsistent(reading, "a page repeats a record of an earlier page")
            seen.add(key)
            records.append(record)
        report_progress(client.options, what, len(records), total or 0)
        if total is not None and len(records) > total:
            raise client.inconsistent(reading, f"{len(records)} records came but {total} were announced")
        done = len(records) == total if total is not None else len(page) < PAGE_LIMIT
        if done:
            return records
        if not page:
            raise client.inconsistent(reading, f"{total} records were announced but only {len(records)} came")


def read_oneroster_api(
    base_url: str,
    client_id: str,
    secret: str,
    *,
    token_url: str | None = None,
    since: dt.datetime | None = None,
    options: HttpOptions | None = None,
) -> Roster:
    """Read a school's users, classes, enrolments and demographics into a `Roster` ("oneroster-api").

    Full by default; with `since`, only users changed since then (`complete=False`; tobedeleted users
    are `removed`). Any failure raises `SourceError` and returns nothing partial.
    """
    options = options or HttpOptions()
    with oneroster_client(base_url, client_id, secret, token_url=token_url, options=options) as client:
        changed = None
        if since is not None:
            stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            changed = {"filter": f"dateLastModified>'{stamp}'"}
        users = fetch_collection(client, "users", changed)
        classes = fetch_collection(client, "classes")
        enrollments = fetch_collection(client, "enrollments")
        demographics = fetch_collection(client, "demographics", changed)
        requests = client.requests
    if since is not None:
        # Only the changed users are read: their enrolments, not everyone's (which would dangle).
        read = {str(user.get("sourcedId")) for user in users}
        enrollments = [e for e in enrollments if _ref(e.get("user")) in read]
    roster = _read_as_csv(users, classes, enrollments, demographics, delta=since is not None)
    roster.source = "oneroster-api"
    kind = "full" if since is None else f"changes since {since:%Y-%m-%d %H:%M}"
    roster.description = f"OneRoster API {api_root(base_url)}, {kind}, {requests} requests"
    options.stats.records = len(roster.people)
    return roster


def _read_as_csv(
    users: list[dict[str, Any]],
    classes: list[dict[str, Any]],
    enrollments: list[dict[str, Any]],
    demographics: list[dict[str, Any]],
    *,
    delta: bool,
) -> Roster:
    files = {
        "users": [_user_row(u) for u in users],
        "classes": [_class_row(c) for c in classes],
        "enrollments": [_enrollment_row(e) for e in enrollments],
        "demographics": [_common(d) | {"birthDate": _text(d.get("birthDate"))} for d in demographics],
    }
    mode = "delta" if delta else "bulk"
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.1")]
    manifest += [(f"file.{name}", mode if name in ("users", "demographics") else "bulk") for name in files]
    with tempfile.TemporaryDirectory(prefix="missync-oneroster-api-") as folder:
        root = Path(folder)
        (root / "manifest.csv").write_text(_csv(["propertyName", "value"], manifest), encoding="utf-8")
        for name, rows in files.items():
            columns = _COLUMNS[name].split(",")
            text = _csv(columns, ([row.get(c, "") for c in columns] for row in rows))
            (root / f"{name}.csv").write_text(text, encoding="utf-8")
        roster = read_oneroster(root)
    roster.people = [
        replace(person, problems=tuple(_relabel(p) for p in person.problems)) for person in roster.people
    ]
    roster.problems = [_relabel(problem) for problem in roster.problems]
    return roster


def _relabel(problem: Problem) -> Problem:
    """A problem found in the restated CSV, pointing at the API collection instead (rows mean nothing)."""
    name = problem.file.removesuffix(".csv")
    if name in _COLUMNS or name == "manifest":
        return replace(problem, file=f"{name} (OneRoster API)", row=None)
    return problem


def _csv(columns: list[str], rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _ref(value: Any) -> str:
    return _text(value.get("sourcedId")) if isinstance(value, dict) else _text(value)


def _refs(values: Any) -> str:
    return ",".join(_ref(v) for v in values if _ref(v)) if isinstance(values, list) else ""


def _common(record: Mapping[str, Any]) -> dict[str, str]:
    keys = ("sourcedId", "status", "dateLastModified")
    return {key: _text(record.get(key)) for key in keys}


def _user_row(user: Mapping[str, Any]) -> dict[str, str]:
    ids = user.get("userIds")
    user_ids = ",".join(
        f"{{{_text(i.get('type'))}:{_text(i.get('identifier'))}}}"
        for i in (ids if isinstance(ids, list) else [])
        if isinstance(i, dict)
    )
    grades = user.get("grades")
    row = _common(user) | {"userIds": user_ids, "orgSourcedIds": _refs(user.get("orgs"))}
    row["agentSourcedIds"] = _refs(user.get("agents"))
    row["grades"] = ",".join(_text(g) for g in grades) if isinstance(grades, list) else _text(grades)
    for key in ("enabledUser", "role", "username", "givenName", "familyName", "middleName", "identifier"):
        row[key] = _text(user.get(key))
    for key in ("email", "sms", "phone"):
        row[key] = _text(user.get(key))
    return row


def _class_row(klass: Mapping[str, Any]) -> dict[str, str]:
    row = _common(klass) | {
        key: _text(klass.get(key)) for key in ("title", "classCode", "classType", "location")
    }
    grades, subjects = klass.get("grades"), klass.get("subjects")
    row["grades"] = ",".join(map(_text, grades)) if isinstance(grades, list) else _text(grades)
    row["subjects"] = ",".join(map(_text, subjects)) if isinstance(subjects, list) else _text(subjects)
    row["courseSourcedId"] = _ref(klass.get("course"))
    row["schoolSourcedId"] = _ref(klass.get("school"))
    row["termSourcedIds"] = _refs(klass.get("terms"))
    return row


def _enrollment_row(enrollment: Mapping[str, Any]) -> dict[str, str]:
    row = _common(enrollment) | {
        "role": _text(enrollment.get("role")),
        "primary": _text(enrollment.get("primary")),
    }
    row["classSourcedId"] = _ref(enrollment.get("class"))
    row["userSourcedId"] = _ref(enrollment.get("user"))
    row["schoolSourcedId"] = _ref(enrollment.get("school"))
    return row
