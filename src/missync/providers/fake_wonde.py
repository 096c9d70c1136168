"""A fake Wonde API (v1.0) on loopback, serving a made-up school (`missync.sample.SampleSchool`).

It behaves as `shared/reference/wonde-api.md` describes: bearer token, the access request and the
school's approval (with which optional permissions it granted), `data`/`meta.pagination` envelopes with
cursor or page paging (`per_page` up to 200; no pagination block for 50 results or fewer), includes,
`updated_after` deltas and `/deletions`. Registration groups are REGISTRATION groups; subject groups
are classes (`classes=False`: a school with no classes, only REGISTRATION groups).

    with FakeWonde(generate_school(1)) as wonde:
        wonde.base_url, wonde.school_id, wonde.token
        wonde.set_school(mid_year_changes(...), at=later)   # for a delta
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from missync.providers.server import FakeProvider, FakeRequest, FakeResponse, Fault
from missync.sample import SamplePupil, SampleSchool, SampleStaff, year_number

REQUIRED_PERMISSIONS = ("students.read", "employees.read", "classes.read", "groups.read")
OPTIONAL_PERMISSIONS = (
    "students.upn",
    "students.date_of_birth",
    "students.contact_details",
    "employees.contact_details",
)
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
_EPOCH = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


def wonde_id(*parts: object) -> str:
    """A stable Wonde-looking id ("A" and ten digits) for the given parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return "A" + str(int(digest[:15], 16) % 10**10).zfill(10)


def wonde_date(moment: dt.datetime | dt.date | None) -> dict[str, Any] | None:
    """Wonde's date object."""
    if moment is None:
        return None
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.UTC)
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.000000")
    return {"date": text, "timezone_type": 3, "timezone": "UTC"}


class FakeWonde(FakeProvider):
    """Wonde for one school. `approved=False` starts before the school has approved the app."""

    name = "wonde"
    base_path = "/v1.0"

    def __init__(
        self,
        school: SampleSchool,
        *,
        school_id: str | None = None,
        token: str | None = None,
        approved: bool = True,
        missing_permissions: Iterable[str] = (),
        classes: bool = True,
        now: dt.datetime = _EPOCH,
        approve_after: float | None = None,
    ) -> None:
        super().__init__()
        # The demo's stand-in for the school approving the app in Wonde's portal some seconds later.
        self.approve_after = approve_after
        self.school_id = school_id or wonde_id("school", school.dfe_number)
        self.token = token or secrets.token_hex(20)
        self.with_classes = classes
        self.access_requests: list[dict[str, Any]] = []
        self.state = "approved" if approved else "none"  # none -> pending (requested) -> approved
        self.permissions = dict.fromkeys((*REQUIRED_PERMISSIONS, *OPTIONAL_PERMISSIONS), approved)
        for name in missing_permissions:
            self.permissions[name] = False
        self.deletions: list[dict[str, Any]] = []
        self.students: dict[str, dict[str, Any]] = {}
        self.employees: dict[str, dict[str, Any]] = {}
        self.set_school(school, at=now)

    # -- the school's side ---------------------------------------------------------------------------
    def approve(self, missing: Iterable[str] = ()) -> None:
        """The school approves the app in the Wonde portal, granting every permission but `missing`."""
        self.state = "approved"
        self.permissions = dict.fromkeys(self.permissions, True)
        for name in missing:
            self.permissions[name] = False

    def rotate_token(self) -> str:
        """Issue a new token (the old one is then rejected) and return it."""
        self.token = secrets.token_hex(20)
        return self.token

    def set_school(self, school: SampleSchool, *, at: dt.datetime) -> None:
        """Serve `school` from now on: changed and new records get `updated_at`=`at`, gone ones a deletion."""
        self.school = school
        years = {year: wonde_id("year", year) for year in school.years}
        self._years = {year: self._group(ident, year, "YEAR", _code(year)) for year, ident in years.items()}
        self._reg = {
            name: self._group(wonde_id("reg", ident), name, "REGISTRATION", name, ident)
            for name, ident in school.class_ids.items()
        }
        self._classes = {
            name: {
                "id": wonde_id("class", school.academic_year, name),
                "mis_id": str(int(wonde_id("class-mis", school.academic_year, name)[1:]) % 10**6),
                "name": name,
                "code": name,
                "description": name,
                "subject": None,
                "alternative": False,
            }
            for name in (school.subject_groups() if self.with_classes else [])
        }
        students = {self._student_id(p): self._student(p) for p in school.pupils}
        employees = {wonde_id("employee", s.staff_code): self._employee(s) for s in school.staff}
        for kind, old, new in (("student", self.students, students), ("employee", self.employees, employees)):
            for ident, record in new.items():
                previous = old.get(ident)
                unchanged = previous is not None and _strip_times(previous) == _strip_times(record)
                record["updated_at"] = previous["updated_at"] if unchanged and previous else wonde_date(at)
                record["created_at"] = previous["created_at"] if previous else wonde_date(at)
            for ident in old.keys() - new.keys():
                self.deletions.append(
                    {
                        "type": kind,
                        "id": ident,
                        "mis_id": old[ident]["mis_id"],
                        "deleted_at": wonde_date(at),
                        "restored_at": None,
                    }
                )
        self.students, self.employees = students, employees

    # -- building records ----------------------------------------------------------------------------
    @staticmethod
    def _group(ident: str, name: str, kind: str, code: str, mis_id: str | None = None) -> dict[str, Any]:
        return {"id": ident, "mis_id": mis_id or ident, "name": name, "code": code, "type": kind}

    @staticmethod
    def _student_id(pupil: SamplePupil) -> str:
        return wonde_id("student", pupil.adno)

    def _student(self, p: SamplePupil) -> dict[str, Any]:
        return {
            "id": self._student_id(p),
            "upi": hashlib.md5(f"{self.school_id}:{p.adno}".encode()).hexdigest(),
            "mis_id": str(int(p.adno[1:]) + 5000),
            "initials": (p.forename[:1] + p.surname[:1]).upper(),
            "forename": p.forename,
            "surname": p.surname,
            "middle_names": None,
            "legal_forename": p.legal_forename,
            "legal_surname": p.legal_surname,
            "gender": None,
            "date_of_birth": wonde_date(p.dob),
            "_upn": p.upn,
            "_adno": p.adno,
            "_year": p.year,
            "_reg": p.reg_group,
            "_groups": [g for g in p.groups if g in self._classes],
        }

    def _employee(self, s: SampleStaff) -> dict[str, Any]:
        return {
            "id": wonde_id("employee", s.staff_code),
            "upi": hashlib.md5(f"{self.school_id}:{s.staff_code}".encode()).hexdigest(),
            "mis_id": s.staff_code,
            "title": "Mx",
            "initials": (s.forename[:1] + s.surname[:1]).upper(),
            "forename": s.forename,
            "surname": s.surname,
            "middle_names": None,
            "legal_forename": s.forename,
            "legal_surname": s.surname,
            "date_of_birth": None,
            "_email": s.email,
            "_role": s.title,
            "_classes": list(s.classes),
        }

    def _render_student(self, record: Mapping[str, Any], includes: set[str]) -> dict[str, Any]:
        out = {key: value for key, value in record.items() if not key.startswith("_")}
        if not self.permissions["students.date_of_birth"]:
            out["date_of_birth"] = None
        reg = self._reg.get(record["_reg"])
        year = self._years.get(record["_year"])
        if "education_details" in includes:
            upn = record["_upn"] if self.permissions["students.upn"] else None
            details = {"upn": upn, "former_upn": None, "admission_number": record["_adno"]}
            details |= {
                "current_nc_year": _code(record["_year"]),
                "admission_date": None,
                "leaving_date": None,
            }
            out["education_details"] = {"data": details}
        if "registration" in includes:
            out["registration"] = {"data": reg if self.with_classes else None}
        if "year" in includes:
            out["year"] = {"data": year}
        if "classes" in includes:
            out["classes"] = {"data": [self._classes[name] for name in record["_groups"]]}
        if "groups" in includes:
            out["groups"] = {"data": [group for group in (reg, year) if group]}
        if "contact_details" in includes:
            emails = {"email": None, "primary": None, "home": None, "work": None}
            out["contact_details"] = {"data": {"emails": emails, "telephones": {}}}
        return out

    def _render_employee(self, record: Mapping[str, Any], includes: set[str]) -> dict[str, Any]:
        out = {key: value for key, value in record.items() if not key.startswith("_")}
        if "contact_details" in includes:
            work = record["_email"]
            emails = {"email": work, "primary": work, "home": None, "work": work}
            out["contact_details"] = {"data": {"emails": emails, "telephones": {}}}
        if "employment_details" in includes:
            teaching = record["_role"] in ("Teacher", "Head")
            details = {"current": True, "teaching_staff": teaching, "role_text": record["_role"]}
            out["employment_details"] = {"data": details | {"employment_start_date": None}}
        if "classes" in includes:
            out["classes"] = {"data": [self._classes[n] for n in record["_classes"] if n in self._classes]}
        if "groups" in includes:
            out["groups"] = {"data": [self._reg[n] for n in record["_classes"] if n in self._reg]}
        return out

    # -- serving -------------------------------------------------------------------------------------
    def page_of(self, request: FakeRequest) -> int | None:
        if "cursor" in request.query:
            return _cursor_offset(request.query["cursor"]) // _per_page(request.query) + 1
        return int(request.query.get("page") or 1) if request.method == "GET" else None

    def error_body(self, status: int, fault: Fault) -> Any:
        return {"error": "error", "error_description": fault.detail or f"HTTP {status}"}

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return FakeResponse(401, {"error": "unauthenticated", "error_description": "Unauthenticated."})
        parts = request.path.removeprefix(self.base_path).strip("/").split("/")
        if parts == ["schools"] or parts == ["schools", "pending"]:
            wanted = "approved" if len(parts) == 1 else "pending"
            return FakeResponse(200, {"data": [self._school()] if self.state == wanted else []})
        if parts[:2] == ["meta", "schools"] and len(parts) >= 3 and parts[2] == self.school_id:
            return self._meta(parts[3:])
        if len(parts) < 3 or parts[:2] != ["schools", self.school_id]:
            return FakeResponse(404, {"error": "not_found", "error_description": "Not found."})
        resource = parts[2]
        if resource == "request-access" and request.method == "POST":
            self.access_requests.append(request.body or {})
            if self.state == "none":
                self.state = "pending"
                if self.approve_after is not None:
                    timer = threading.Timer(self.approve_after, self.approve)
                    timer.daemon = True
                    timer.start()
            return FakeResponse(200, {"success": True})
        if self.state != "approved":
            return self._forbidden("the school has not approved access")
        return self._list(resource, request)

    def _school(self) -> dict[str, Any]:
        region = {"code": "GB", "domain": "api.wonde.com"}
        return {"id": self.school_id, "name": self.school.name, "urn": None, "la_code": None} | {
            "establishment_number": self.school.dfe_number[3:],
            "region": {"data": region},
        }

    def _meta(self, rest: list[str]) -> FakeResponse:
        if not rest:
            approved = self.state == "approved"
            return FakeResponse(200, {"data": {"online": True, "approved": approved, "audited": approved}})
        if rest == ["permissions"]:
            shown = self.state == "approved"
            data = [{"identifier": name, "approved": shown and ok} for name, ok in self.permissions.items()]
            return FakeResponse(200, {"data": data})
        return FakeResponse(404, {"error": "not_found"})

    def _forbidden(self, why: str) -> FakeResponse:
        return FakeResponse(403, {"error": "forbidden", "error_description": why})

    def _list(self, resource: str, request: FakeRequest) -> FakeResponse:
        includes = {name.split(".")[0] for name in request.query.get("include", "").split(",") if name}
        since = _parse_since(request.query.get("updated_after"))
        records: list[dict[str, Any]]
        if resource == "students":
            needed = {"students.read"} | ({"students.contact_details"} & {f"students.{i}" for i in includes})
            rows = [s for s in self.students.values() if _after(s, since)]
            records = [self._render_student(s, includes) for s in rows]
        elif resource == "employees":
            needed = {"employees.read"} | (
                {"employees.contact_details"} & {f"employees.{i}" for i in includes}
            )
            rows = [e for e in self.employees.values() if _after(e, since)]
            records = [self._render_employee(e, includes) for e in rows]
        elif resource == "classes":
            needed, records = {"classes.read"}, list(self._classes.values())
        elif resource == "groups":
            needed = {"groups.read"}
            records = [*self._reg.values(), *self._years.values()]
            if request.query.get("type"):
                records = [g for g in records if g["type"] == request.query["type"].upper()]
        elif resource == "deletions":
            needed = {"students.read"}
            records = [d for d in self.deletions if _after(d, since, "deleted_at")]
        else:
            return FakeResponse(404, {"error": "not_found", "error_description": "Not found."})
        refused = sorted(name for name in needed if not self.permissions.get(name, False))
        if refused:
            return self._forbidden(f"permission not approved: {refused[0]}")
        return FakeResponse(200, self._page(records, request))

    def _page(self, records: list[dict[str, Any]], request: FakeRequest) -> dict[str, Any]:
        per_page = _per_page(request.query)
        cursor = "cursor" in request.query
        start = _cursor_offset(request.query["cursor"]) if cursor else (self.page_of(request) or 1) - 1
        start = start if cursor else start * per_page
        page = start // per_page + 1
        data = records[start : start + per_page]
        fault = request.fault
        if fault is not None and fault.kind == "repeat_record" and start > 0:
            data = [records[start - 1], *data[:-1]]
        includes = sorted(name for name in request.query.get("include", "").split(",") if name)
        body: dict[str, Any] = {"data": data, "meta": {"includes": includes}}
        if len(records) <= DEFAULT_PER_PAGE and start == 0 and fault is None:
            return body
        more = start + per_page < len(records)
        step = 2 if fault is not None and fault.kind == "skip_page" else 1
        query = {key: value for key, value in request.query.items() if key not in ("page", "cursor")}
        if cursor:
            query["cursor"] = _cursor(start + per_page * step)
        else:
            query["page"] = str(page + step)
        origin = self.origin
        if fault is not None and fault.kind == "foreign_next":
            origin = "https://wonde.example.net"
        next_url = origin + request.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        if fault is not None and fault.kind == "no_next":
            more, next_url = True, ""
        pagination = {"next": next_url if more else None, "previous": None, "more": more}
        body["meta"]["pagination"] = pagination | {"per_page": per_page, "current_page": page}
        return body


def _code(year: str) -> str:
    number = year_number(year)
    return {-1: "N1", 0: "R"}.get(number) or str(number)


def _cursor(offset: int) -> str:
    """An opaque cursor for the record at `offset`."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _cursor_offset(cursor: str) -> int:
    """The offset a cursor stands for; "true" (the first request) is 0."""
    if cursor in ("", "true"):
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().removeprefix("offset:"))


def _per_page(query: Mapping[str, str]) -> int:
    return max(1, min(MAX_PER_PAGE, int(query.get("per_page") or DEFAULT_PER_PAGE)))


def _strip_times(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in ("updated_at", "created_at")}


def _parse_since(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=dt.UTC)


def _after(record: Mapping[str, Any], since: dt.datetime | None, key: str = "updated_at") -> bool:
    if since is None:
        return True
    stamp = record[key]["date"][:19].replace(" ", "T")
    return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.UTC) >= since
