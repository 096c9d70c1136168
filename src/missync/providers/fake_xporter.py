"""A fake Groupcall Xporter on Demand on loopback, serving a made-up school (`missync.sample`).

As `shared/reference/xporter-api.md` describes: a token from `POST /idaas/sts/STS/GetToken` (estab,
relyingParty, school secret), then `Authorization: Idaas <token>` on `GET /api/v1/School/{estab}/Students/`,
`Staff/`, `Groups/` with `page`/`pageSize` paging (`__pagination__`), `updatedSince` deltas with
`Students_deleted`/`Staff_deleted`, and the scopes the school approved (no `UPN` scope: no UPN field).
Group member ids are served as `StudentIds` and `StaffIds` lists (with `options=includeMembersIds`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from missync.providers.server import FakeProvider, FakeRequest, FakeResponse, Fault
from missync.sample import SamplePupil, SampleSchool, SampleStaff, year_number

SCOPES = ("SchoolLite", "StaffLite", "StudentLite", "UPN", "StudentExtended", "StaffPersonalContact")
MAX_PAGE_SIZE = 1000
_EPOCH = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)
_NAMESPACE = uuid.UUID("7f0e0c1e-5b1a-4a53-9d64-7a1d2b8c0001")


def xporter_year(year: str) -> str:
    """The year name as SIMS gives it through Xporter: "Year  4" (two spaces), "Reception", "Nursery"."""
    number = year_number(year)
    return year if number <= 0 else f"Year  {number}"


class FakeXporter(FakeProvider):
    """Xporter on Demand for one school (its `establishment` is the sample's DfE number)."""

    name = "xporter"

    def __init__(
        self,
        school: SampleSchool,
        *,
        app_id: str = "missync-test",
        secret: str | None = None,
        missing_scopes: Iterable[str] = (),
        now: dt.datetime = _EPOCH,
    ) -> None:
        super().__init__()
        self.establishment = school.dfe_number
        self.app_id = app_id
        self.secret = secret or secrets.token_urlsafe(18)
        self.scopes = set(SCOPES) - set(missing_scopes)
        self.tokens: set[str] = set()
        self.deleted: dict[str, list[tuple[int, dt.datetime]]] = {"Students": [], "Staff": []}
        self.records: dict[str, dict[int, dict[str, Any]]] = {"Students": {}, "Staff": {}}
        self.set_school(school, at=now)

    def reauthorise(self) -> str:
        """The school re-authorises the app: a new secret is issued and old tokens stop working."""
        self.secret = secrets.token_urlsafe(18)
        self.tokens.clear()
        return self.secret

    def set_school(self, school: SampleSchool, *, at: dt.datetime) -> None:
        """Serve `school` from now on; changed records get LastUpdated=`at`, gone ones are deleted."""
        self.school = school
        self._group_ids: dict[tuple[str, str], int] = {}
        groups: list[dict[str, Any]] = []
        staff_ids = {s.staff_code: _staff_id(s) for s in school.staff}
        for name, class_id in school.class_ids.items():
            tutors = [staff_ids[s.staff_code] for s in school.staff if name in s.classes]
            members = [_pupil_id(p) for p in school.pupils if p.reg_group == name]
            groups.append(self._group("RegGrp", name, class_id, members, tutors))
        for year in school.years:
            members = [_pupil_id(p) for p in school.pupils if p.year == year]
            groups.append(self._group("YearGrp", xporter_year(year), year, members, []))
        for name in school.subject_groups():
            teachers = [staff_ids[s.staff_code] for s in school.staff if name in s.classes]
            members = [_pupil_id(p) for p in school.pupils if name in p.groups]
            groups.append(
                self._group("TeachingGrp", name, f"{school.academic_year}:{name}", members, teachers)
            )
        self.groups = groups
        new = {
            "Students": {_pupil_id(p): self._student(p) for p in school.pupils},
            "Staff": {staff_ids[s.staff_code]: self._staff(s) for s in school.staff},
        }
        stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        for kind, records in new.items():
            old = self.records[kind]
            for ident, record in records.items():
                previous = old.get(ident)
                same = previous is not None and {**previous, "LastUpdated": ""} == {
                    **record,
                    "LastUpdated": "",
                }
                record["LastUpdated"] = previous["LastUpdated"] if same and previous else stamp
            self.deleted[kind] += [(ident, at) for ident in old.keys() - records.keys()]
            self.records[kind] = records

    def _group(self, kind: str, name: str, key: str, students: list[int], staff: list[int]) -> dict[str, Any]:
        ident = int(uuid.uuid5(_NAMESPACE, f"{kind}:{key}").int % 10**6)
        return {
            "Id": ident,
            "ExternalId": str(uuid.uuid5(_NAMESPACE, f"group:{kind}:{key}")),
            "Type": kind,
            "Code": name,
            "Name": name,
            "PrimaryStaffId": staff[0] if staff else None,
            "NumStudents": len(students),
            "StudentIds": students,
            "StaffIds": staff,
        }

    def _reg_group_id(self, name: str) -> int | None:
        return next((g["Id"] for g in self.groups if g["Type"] == "RegGrp" and g["Name"] == name), None)

    def _student(self, p: SamplePupil) -> dict[str, Any]:
        year = next(g for g in self.groups if g["Type"] == "YearGrp" and g["Name"] == xporter_year(p.year))
        return {
            "Id": _pupil_id(p),
            "ExternalId": str(uuid.uuid5(_NAMESPACE, f"student:{p.adno}")),
            "IdaasId": None,
            "Forename": p.forename,
            "Surname": p.surname,
            "LegalForename": p.legal_forename,
            "LegalSurname": p.legal_surname,
            "MiddleName": "",
            "DisplayName": f"{p.forename} {p.surname}",
            "AdmissionNo": p.adno,
            "UPN": p.upn,
            "Gender": None,
            "DateofBirth": f"{p.dob.isoformat()}T00:00:00",
            "RegGroupId": self._reg_group_id(p.reg_group),
            "RegGroup": p.reg_group,
            "YearGroupId": year["Id"],
            "YearGroup": xporter_year(p.year),
            "WorkEmail": None,
            "StudentStatus": "OnRoll",
        }

    def _staff(self, s: SampleStaff) -> dict[str, Any]:
        return {
            "Id": _staff_id(s),
            "ExternalId": str(uuid.uuid5(_NAMESPACE, f"staff:{s.staff_code}")),
            "Title": "Mx",
            "StaffCode": s.staff_code,
            "Forename": s.forename,
            "Surname": s.surname,
            "LegalForename": s.forename,
            "LegalSurname": s.surname,
            "WorkEmail": s.email,
            "HomeEmail": None,
            "IsTeacher": s.title in ("Teacher", "Head"),
            "IsSupport": s.title not in ("Teacher", "Head"),
            "StaffStatus": "Current",
            "RegGroup": ",".join(c for c in s.classes if c in self.school.class_ids),
        }

    # -- serving -------------------------------------------------------------------------------------
    def page_of(self, request: FakeRequest) -> int | None:
        return int(request.query.get("page") or 1) if request.method == "GET" else None

    def error_body(self, status: int, fault: Fault) -> Any:
        return {"ExceptionMessage": fault.detail or f"HTTP {status}"}

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.path.rstrip("/") == "/idaas/sts/STS/GetToken" and request.method == "POST":
            return self._token(request.body or {})
        token = request.headers.get("authorization", "").removeprefix("Idaas ")
        if token not in self.tokens:
            return FakeResponse(401, {"ExceptionMessage": "Authorization has been denied for this request."})
        parts = request.path.strip("/").split("/")
        if parts[:4] != ["api", "v1", "School", self.establishment] or len(parts) != 5:
            return FakeResponse(404, {"ExceptionMessage": "No such resource."})
        resource = parts[4]
        needed = {"Students": "StudentLite", "Staff": "StaffLite", "Groups": "SchoolLite"}.get(resource)
        if needed is None:
            return FakeResponse(404, {"ExceptionMessage": "No such resource."})
        if needed not in self.scopes:
            return FakeResponse(403, {"ExceptionMessage": f"The {needed} scope is not authorised."})
        return FakeResponse(200, self._list(resource, request))

    def _token(self, body: dict[str, Any]) -> FakeResponse:
        good = (
            str(body.get("estab")) == self.establishment
            and body.get("relyingParty") == self.app_id
            and body.get("password") == self.secret
        )
        if not good:
            return FakeResponse(401, {"ExceptionMessage": "Invalid credentials."})
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return FakeResponse(200, {"token": token, "expires": "3600"})

    def _visible(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        shown = dict(record)
        if resource == "Students" and "UPN" not in self.scopes:
            shown.pop("UPN", None)
        if resource == "Students" and "StudentExtended" not in self.scopes:
            shown.pop("DateofBirth", None)
        if resource == "Staff" and "StaffPersonalContact" not in self.scopes:
            shown.pop("HomeEmail", None)
        return shown

    def _list(self, resource: str, request: FakeRequest) -> dict[str, Any]:
        since = request.query.get("updatedSince")
        if resource == "Groups":
            wanted = request.query.get("type")
            rows = [g for g in self.groups if not wanted or g["Type"] == wanted]
        else:
            rows = [
                self._visible(resource, r)
                for r in self.records[resource].values()
                if not since or r["LastUpdated"] >= since[:19]
            ]
        size = max(1, min(MAX_PAGE_SIZE, int(request.query.get("pageSize") or 100)))
        page = self.page_of(request) or 1
        count = max(1, -(-len(rows) // size))
        body: dict[str, Any] = {resource: rows[(page - 1) * size : page * size], "meta": [{"MIS": "simsnet"}]}
        if since and resource != "Groups":
            cutoff = dt.datetime.fromisoformat(since[:19]).replace(tzinfo=dt.UTC)
            body[f"{resource}_deleted"] = [{"Id": i} for i, when in self.deleted[resource] if when >= cutoff]
        fault = request.fault
        step = 2 if fault is not None and fault.kind == "skip_page" else 1
        next_page = f"?page={page + step}&pageSize={size}" if page < count else None
        if fault is not None and fault.kind == "foreign_next":
            next_page = f"https://xporter.example.net{request.path}?page={page + 1}&pageSize={size}"
        if fault is not None and fault.kind == "no_next":
            next_page = None
        total = len(rows) + (size if fault is not None and fault.kind == "wrong_total" else 0)
        paging = {"PageSize": size, "PageNumber": page, "PageCount": count, "RowCount": total}
        body["__pagination__"] = [paging | {"NextPage": next_page}]
        return body


def _pupil_id(pupil: SamplePupil) -> int:
    return 100000 + int(pupil.adno[1:])


def _staff_id(staff: SampleStaff) -> int:
    return 900000 + int(staff.staff_code[1:])
