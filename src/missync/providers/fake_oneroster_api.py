"""A fake OneRoster 1.1 REST API (`/ims/oneroster/v1p1`) on loopback, serving a made-up school.

OAuth2 client credentials (`POST /oauth/token`, HTTP Basic client id and secret), then `users`,
`classes`, `enrollments` and `demographics` with `limit`/`offset` paging and `X-Total-Count`, and the
`filter=dateLastModified>'...'` delta filter. The records are exactly those `missync.sample.write_oneroster`
writes as CSV, restated as OneRoster JSON, so the REST and CSV readers can be compared.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from missync.providers.server import FakeProvider, FakeRequest, FakeResponse
from missync.sample import SampleSchool, write_oneroster

ROOT = "/ims/oneroster/v1p1"
COLLECTIONS = ("users", "classes", "enrollments", "demographics")
MAX_LIMIT = 1000
_FILTER = re.compile(r"dateLastModified\s*>\s*'([^']+)'")
_EPOCH = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _list(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(",") if part.strip()]


def _ref(sourced_id: str, kind: str) -> dict[str, str] | None:
    return (
        {"href": f"{ROOT}/{kind}s/{sourced_id}", "sourcedId": sourced_id, "type": kind}
        if sourced_id
        else None
    )


def _json_record(collection: str, row: dict[str, str]) -> dict[str, Any]:
    """One CSV row of `write_oneroster` as the REST API's JSON object."""
    common = {"sourcedId": row["sourcedId"], "status": "active", "dateLastModified": ""}
    if collection == "users":
        user_ids = [
            {"type": kind, "identifier": value}
            for kind, value in re.findall(r"\{([^:{}]+):([^{}]*)\}", row.get("userIds", ""))
        ]
        keep = ("enabledUser", "role", "username", "givenName", "familyName", "middleName", "identifier")
        return (
            common
            | {k: row.get(k, "") for k in (*keep, "email", "sms", "phone")}
            | {
                "userIds": user_ids,
                "orgs": [_ref(s, "org") for s in _list(row.get("orgSourcedIds", ""))],
                "agents": [],
                "grades": _list(row.get("grades", "")),
            }
        )
    if collection == "classes":
        return (
            common
            | {k: row.get(k, "") for k in ("title", "classCode", "classType", "location")}
            | {
                "grades": _list(row.get("grades", "")),
                "subjects": _list(row.get("subjects", "")),
                "course": _ref(row.get("courseSourcedId", ""), "course"),
                "school": _ref(row.get("schoolSourcedId", ""), "org"),
                "terms": [_ref(s, "academicSession") for s in _list(row.get("termSourcedIds", ""))],
            }
        )
    if collection == "enrollments":
        return common | {
            "role": row.get("role", ""),
            "primary": row.get("primary") or "false",
            "user": _ref(row["userSourcedId"], "user"),
            "class": _ref(row["classSourcedId"], "class"),
            "school": _ref(row.get("schoolSourcedId", ""), "org"),
        }
    return common | {"birthDate": row.get("birthDate", ""), "sex": row.get("sex", "")}


class FakeOneRosterAPI(FakeProvider):
    """A OneRoster 1.1 REST provider for one school."""

    name = "oneroster-api"

    def __init__(
        self,
        school: SampleSchool,
        *,
        client_id: str = "missync-test",
        secret: str | None = None,
        now: dt.datetime = _EPOCH,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.secret = secret or secrets.token_urlsafe(18)
        self.tokens: set[str] = set()
        self.collections: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
        self.set_school(school, at=now)

    @property
    def token_url(self) -> str:
        """Where the client credentials are exchanged for a token."""
        return self.origin + "/oauth/token"

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as an expired token does)."""
        self.tokens.clear()

    def set_school(self, school: SampleSchool, *, at: dt.datetime) -> None:
        """Serve `school` from now on; changed records get `dateLastModified`=`at`, gone ones tobedeleted."""
        self.school = school
        with tempfile.TemporaryDirectory(prefix="fake-oneroster-") as folder:
            write_oneroster(school, Path(folder) / "set")
            for name in COLLECTIONS:
                with (Path(folder) / "set" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                    rows = [_json_record(name, row) for row in csv.DictReader(handle)]
                old = self.collections[name]
                new: dict[str, dict[str, Any]] = {}
                for record in rows:
                    previous = old.get(record["sourcedId"])
                    same = previous is not None and {**previous, "dateLastModified": ""} == record
                    record["dateLastModified"] = (
                        previous["dateLastModified"] if same and previous else _iso(at)
                    )
                    new[record["sourcedId"]] = record
                for sourced_id in old.keys() - new.keys():
                    gone = dict(old[sourced_id])
                    if gone["status"] != "tobedeleted":
                        gone |= {"status": "tobedeleted", "dateLastModified": _iso(at)}
                    new[sourced_id] = gone
                self.collections[name] = new

    # -- serving -------------------------------------------------------------------------------------
    def page_of(self, request: FakeRequest) -> int | None:
        if request.method != "GET":
            return None
        limit = _limit(request.query)
        return int(request.query.get("offset") or 0) // limit + 1

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return FakeResponse(401, {"imsx_codeMajor": "failure", "imsx_description": "Unauthorized"})
        collection = request.path.removeprefix(ROOT).strip("/")
        if collection not in COLLECTIONS:
            return FakeResponse(404, {"imsx_codeMajor": "failure", "imsx_description": "Not found"})
        records = list(self.collections[collection].values())
        match = _FILTER.search(request.query.get("filter", ""))
        if match:
            records = [r for r in records if r["dateLastModified"] > match.group(1)]
        else:
            records = [r for r in records if r["status"] != "tobedeleted"]
        limit, offset = _limit(request.query), int(request.query.get("offset") or 0)
        fault = request.fault
        total = len(records)
        if fault is not None and fault.kind == "wrong_total":
            total += limit
        if fault is not None and fault.kind == "repeat_record" and offset > 0:
            offset -= 1
        if fault is not None and fault.kind == "skip_page":
            offset += limit
        return FakeResponse(
            200, {collection: records[offset : offset + limit]}, {"X-Total-Count": str(total)}
        )

    def _token(self, request: FakeRequest) -> FakeResponse:
        header = request.headers.get("authorization", "")
        try:
            client_id, _, secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            client_id = secret = ""
        form = dict(part.split("=", 1) for part in request.raw_body.decode().split("&") if "=" in part)
        if (client_id, secret) != (self.client_id, self.secret) or form.get(
            "grant_type"
        ) != "client_credentials":
            return FakeResponse(401, {"error": "invalid_client"})
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return FakeResponse(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})


def _limit(query: dict[str, str]) -> int:
    return max(1, min(MAX_LIMIT, int(query.get("limit") or 100)))
