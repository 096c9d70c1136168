"""Made-up UK school MIS data, and writers for the file formats missync reads.

Everything here is invented: names come from Faker's en_GB lists (seeded) plus a short hand-picked list
of hard names (diacritics, apostrophes, spaces, hyphens) mixed in at a low rate. Hard cases a sync must
survive appear at low rates and at least once in every school `generate_school` builds: twins, two pupils
whose usernames clash (same forename and surname initial), a pupil known by a preferred forename.

Speed matters (benchmarks build 100,000 pupils): Faker is called only to fill a name pool once per seed;
people are then drawn from the pools with a seeded `random.Random`. All output is deterministic per seed.
Hard names are all representable in cp1252, so every writer encoding round-trips every name.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from faker import Faker

PRIMARY_YEARS: tuple[str, ...] = ("Reception", *(f"Year {n}" for n in range(1, 7)))
# fmt: off
FORM_NAMES: tuple[str, ...] = ("Oak", "Ash", "Birch", "Elm", "Hazel", "Willow", "Rowan", "Beech", "Cedar",
                               "Maple", "Holly", "Yew", "Larch", "Pine", "Alder", "Aspen", "Lime", "Poplar")
CLUBS: tuple[str, ...] = ("Choir", "Football Club", "Coding Club", "Gardening Club")
HARD_FORENAMES: tuple[str, ...] = ("Zoë", "Siân", "Chloé", "Anaïs", "Seán", "Róisín", "Aoife", "Noël", "Inès",
                                   "Björn", "François", "Mary-Jane", "D'Andre", "Oluwaseun", "Renée", "Søren")
HARD_SURNAMES: tuple[str, ...] = ("O'Brien", "Smith-Jones", "Ní Bhriain", "Ma'Aké", "D'Souza", "O\u2019Neill",
                                  "Ó Dálaigh", "Mac an tSaoir", "van der Berg", "Müller", "Núñez", "Öztürk",
                                  "Fernández-López", "St John")
SPREADSHEET_HEADERS: tuple[str, ...] = ("Adno", "UPN", "Legal Forename", "Legal Surname",
                                        "Preferred Forename", "Preferred Surname", "Year", "Reg Group", "DOB",
                                        "Email", "Role", "Groups")
# fmt: on
# Legal forename -> the name the child is known by.
PREFERRED_NAMES = {"William": "Billy", "Alexander": "Alex", "Elizabeth": "Libby", "Thomas": "Tom"}
PREFERRED_NAMES |= {"Katherine": "Kate", "Margaret": "Maggie", "Maximilian": "Max", "Christopher": "Kit"}
PREFERRED_NAMES |= {"Isabella": "Bella", "Oluwaseun": "Seun", "Mary": "Rose", "Jonathan": "Jon"}

HARD_NAME_RATE = 0.03  # per name part
PREFERRED_RATE = 0.02  # known by a forename other than the legal one
LEGAL_SURNAME_RATE = 0.005  # double-barrelled legal surname, known by the last part
TWIN_RATE = 0.015  # chance a pupil has a twin generated right after them
FORM_MOVE_RATE = 0.03  # chance a pupil changes form when moving up
CLUB_RATE = 0.06  # per club, Year 2 and up

_SPLIT_PARTS = (("pupils", "Pupil"), ("staff", "Staff"))
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE check letters: remainder mod 23 (no I, O or S)
_SLUG_NOISE = {"primary", "school", "academy", "infant", "infants", "junior", "juniors", "the", "c", "of"}
_SLUG_NOISE |= {"e", "ce", "rc", "church", "england", "catholic"}  # "St Mary's C of E Primary": st-marys


@dataclass(slots=True)
class SamplePupil:
    """One made-up pupil as the MIS holds them; `forename`/`surname` are the names they are known by."""

    adno: str
    upn: str
    forename: str
    surname: str
    legal_forename: str
    legal_surname: str
    year: str
    reg_group: str
    reg_group_id: str
    dob: date
    groups: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SampleStaff:
    """One made-up member of staff; `classes` lists their registration group first, then subject groups."""

    staff_code: str
    forename: str
    surname: str
    email: str
    title: str  # Teacher, TA, Head or Office
    classes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SampleSchool:
    """A made-up school in one academic year (2026 means 2026/27), with the counters that keep ids unique."""

    name: str
    slug: str
    academic_year: int
    pupils: list[SamplePupil]
    staff: list[SampleStaff]
    years: tuple[str, ...]
    forms: tuple[str, ...]
    class_ids: dict[str, str]  # registration group name -> MIS class id (new every academic year)
    seed: int
    dfe_number: str  # LA code (3 digits) + establishment number (4 digits)
    pupils_per_class: int = 30
    next_adno: int = 1000
    next_upn: int = 1
    next_staff: int = 1

    @property
    def domain(self) -> str:
        return f"{self.slug}.example.org"

    def reg_groups(self) -> list[str]:
        """Every registration group, in year then form order."""
        return list(self.class_ids)

    def subject_groups(self) -> list[str]:
        """Every subject group this school's pupils and staff can be in, in a stable order."""
        return _subject_groups(self.years, len(self.forms))


def year_number(year: str) -> int:
    """-1 for Nursery, 0 for Reception, n for "Year n"."""
    if year in ("Nursery", "Reception"):
        return -1 if year == "Nursery" else 0
    return int(year.removeprefix("Year "))


def grade_code(year: str) -> str:
    """The OneRoster grade code: PK, KG, 01..13."""
    number = year_number(year)
    return {-1: "PK", 0: "KG"}.get(number) or f"{number:02d}"


def _short(year: str) -> str:
    return {-1: "N", 0: "R"}.get(year_number(year)) or str(year_number(year))


def _form_name(index: int) -> str:
    base = FORM_NAMES[index % len(FORM_NAMES)]
    return base if index < len(FORM_NAMES) else f"{base} {index // len(FORM_NAMES) + 1}"


def _ascii(text: str) -> str:
    return "".join(ch for ch in _ascii_words(text) if ch.isalnum())


def _slug(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", _ascii_words(name).lower().replace("'", ""))
    return "-".join(w for w in words if w not in _SLUG_NOISE) or "-".join(words) or "school"


def _ascii_words(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _subject_groups(years: Sequence[str], forms: int) -> list[str]:
    numbers = [year_number(y) for y in years]
    groups = [f"Phonics Group {k}" for k in range(1, forms + 2)] if {0, 1} & set(numbers) else []
    groups += [f"Y{n} Maths Set {k}" for n in numbers if n >= 5 for k in range(1, forms + 2)]
    return groups + (list(CLUBS) if any(n >= 2 for n in numbers) else [])


@lru_cache(maxsize=8)
def _name_pools(seed: int, forenames: int = 400, surnames: int = 600) -> tuple[tuple[str, ...], ...]:
    """Draw up to this many distinct en_GB names once (Faker's lists hold ~360 forenames, ~500 surnames)."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    draws = ((fake.first_name, forenames), (fake.last_name, surnames))
    return tuple(tuple(dict.fromkeys(draw() for _ in range(size * 6)))[:size] for draw, size in draws)


class _Factory:
    """Makes people for one school and year; owns the seeded rng and the id counters."""

    def __init__(self, school: SampleSchool, rng: random.Random) -> None:
        self.school, self.rng = school, rng
        self.forenames, self.surnames = _name_pools(school.seed)
        self.la, self.establishment = int(school.dfe_number[:3]), int(school.dfe_number[3:])
        self.emails = {member.email for member in school.staff}

    def forename(self) -> str:
        rng = self.rng
        return rng.choice(HARD_FORENAMES) if rng.random() < HARD_NAME_RATE else rng.choice(self.forenames)

    def surname(self) -> str:
        rng = self.rng
        return rng.choice(HARD_SURNAMES) if rng.random() < HARD_NAME_RATE else rng.choice(self.surnames)

    def ids(self) -> tuple[str, str]:
        school = self.school
        adno = f"A{school.next_adno:07d}"
        body = f"{self.la * 10**9 + self.establishment * 10**5 + school.next_upn:012d}"
        school.next_adno += 1
        school.next_upn += 1
        return adno, _UPN_LETTERS[sum(int(d) * w for w, d in enumerate(body, 2)) % 23] + body

    def dob(self, year: str) -> date:
        # Reception in 2026/27 were born 1 Sep 2021 .. 31 Aug 2022; each year up is a year older.
        born = self.school.academic_year - 5 - year_number(year)
        start = date(born, 9, 1).toordinal()
        return date.fromordinal(start + self.rng.randrange(date(born + 1, 8, 31).toordinal() - start + 1))

    def groups(self, year: str) -> list[str]:
        rng, number, sets = self.rng, year_number(year), len(self.school.forms) + 1
        groups = [f"Phonics Group {rng.randint(1, sets)}"] if number in (0, 1) and rng.random() < 0.5 else []
        if number >= 5:
            groups.append(f"Y{number} Maths Set {rng.randint(1, sets)}")
        if number >= 2:
            groups += [club for club in CLUBS if rng.random() < CLUB_RATE]
        return groups

    def pupil(self, year: str, reg_group: str, twin_of: SamplePupil | None = None) -> SamplePupil:
        rng = self.rng
        forename = legal_forename = self.forename()
        if rng.random() < PREFERRED_RATE:
            legal_forename, forename = rng.choice(list(PREFERRED_NAMES.items()))
        surname = legal_surname = twin_of.surname if twin_of else self.surname()
        if twin_of:
            legal_surname = twin_of.legal_surname
        elif rng.random() < LEGAL_SURNAME_RATE:
            legal_surname = f"{self.surname()}-{surname}"
        dob = twin_of.dob if twin_of else self.dob(year)
        names, class_id = (forename, surname, legal_forename, legal_surname), self.school.class_ids[reg_group]
        return SamplePupil(*self.ids(), *names, year, reg_group, class_id, dob, self.groups(year))

    def year_group(self, year: str, sizes: Sequence[int]) -> list[SamplePupil]:
        """A whole year group: class sizes per form; twins may land in the same or another form."""
        forms, short = self.school.forms, _short(year)
        slots = [f"{short} {forms[i]}" for i, size in enumerate(sizes) for _ in range(size)]
        self.rng.shuffle(slots)
        pupils: list[SamplePupil] = []
        twin_of: SamplePupil | None = None
        for reg_group in slots:
            pupils.append(self.pupil(year, reg_group, twin_of))
            twin_of = pupils[-1] if twin_of is None and self.rng.random() < TWIN_RATE else None
        return pupils

    def class_sizes(self) -> list[int]:
        size = self.school.pupils_per_class
        return [self.rng.randint(max(1, size - size // 10), size) for _ in self.school.forms]

    def staff_member(self, title: str, classes: list[str]) -> SampleStaff:
        school = self.school
        code = f"T{school.next_staff:03d}"
        school.next_staff += 1
        forename, surname = self.forename(), self.surname()
        local = (_ascii(forename)[:1] + _ascii(surname)).lower() or "staff"
        email, number = f"{local}@{school.domain}", 1
        while email in self.emails:
            number += 1
            email = f"{local}{number}@{school.domain}"
        self.emails.add(email)
        return SampleStaff(code, forename, surname, email, title, classes)


def _new_class_ids(school: SampleSchool) -> dict[str, str]:
    names = [f"{_short(year)} {form}" for year in school.years for form in school.forms]
    return {name: f"{school.academic_year}-{n}" for n, name in enumerate(names, 1)}


def generate_school(
    seed: int = 1,
    *,
    name: str = "Oakfield Primary School",
    forms_per_year: int = 2,
    pupils_per_class: int = 30,
    years: Sequence[str] = PRIMARY_YEARS,
    staff: int = 20,
    academic_year: int = 2026,
    pupils: int | None = None,
) -> SampleSchool:
    """Build a made-up school: `forms_per_year` classes per year of 90-100% of `pupils_per_class` pupils
    (or exactly `pupils` pupils spread evenly), a Head, one class teacher per class while staff last,
    then TAs and office staff. Twins, clashing usernames, a preferred name and hard names always appear
    (given at least six pupils)."""
    rng = random.Random(f"school:{seed}")
    dfe = f"{rng.randint(201, 938)}{rng.randint(2000, 2999)}"
    forms = tuple(_form_name(i) for i in range(forms_per_year))
    school = SampleSchool(
        name, _slug(name), academic_year, [], [], tuple(years), forms, {}, seed, dfe, pupils_per_class
    )
    school.class_ids = _new_class_ids(school)
    factory = _Factory(school, rng)
    even, extra = divmod(pupils or 0, len(school.class_ids))  # the first `extra` classes get one more
    for index, year in enumerate(school.years):
        first = index * forms_per_year
        sizes = [even + (first + i < extra) for i in range(forms_per_year)]
        if pupils is None:
            sizes = factory.class_sizes()
        school.pupils += factory.year_group(year, sizes)
    _ensure_hard_cases(school.pupils, rng, factory.surnames)
    _add_staff(school, factory, staff)
    return school


def generate_pupils_school(
    seed: int, pupils: int, *, pupils_per_class: int = 30, **options: object
) -> SampleSchool:
    """A school of exactly `pupils` pupils: enough forms per year for full classes, a class teacher per
    class and a third as many other staff (unless `staff` is given). Other options as `generate_school`."""
    years: Sequence[str] = options.pop("years", PRIMARY_YEARS)  # type: ignore[assignment]
    forms = max(1, math.ceil(pupils / (len(years) * pupils_per_class)))
    options.setdefault("staff", forms * len(years) * 4 // 3 + 1)
    options |= {"forms_per_year": forms, "pupils_per_class": pupils_per_class, "years": years}
    return generate_school(seed, pupils=pupils, **options)  # type: ignore[arg-type]


def _ensure_hard_cases(pupils: list[SamplePupil], rng: random.Random, surnames: Sequence[str]) -> None:
    """Make sure a school has at least one of each hard case, whatever the rates drew."""
    if len(pupils) < 6:
        return
    pairs = [i for i in range(len(pupils) - 1) if pupils[i].year == pupils[i + 1].year]
    twin = rng.choice(pairs) if pairs else -2  # twins share a year group: none if every year has one pupil
    first, second, third, fourth = rng.sample([i for i in range(len(pupils)) if i not in (twin, twin + 1)], 4)
    keys = [(p.forename.casefold(), p.surname[:1].casefold()) for p in pupils]
    if len(set(keys)) == len(keys):  # JohnS and JohnS2: same forename, different surnames, same initial
        a, b = pupils[first], pupils[second]
        b.forename = b.legal_forename = a.forename
        b.surname = b.legal_surname = next((s for s in surnames if s[0] == a.surname[0] != s), a.surname)
    if all(p.forename.isascii() and p.surname.isascii() for p in pupils):
        pupils[third].forename = pupils[third].legal_forename = "Zoë"
        pupils[third].surname = pupils[third].legal_surname = "O'Brien"
    if all(p.forename == p.legal_forename for p in pupils):
        pupils[fourth].legal_forename, pupils[fourth].forename = "Elizabeth", "Libby"
    if pairs and not any(a.dob == b.dob and a.surname == b.surname for a, b in pairwise(pupils)):
        a, b = pupils[twin], pupils[twin + 1]
        b.surname, b.legal_surname, b.dob = a.surname, a.legal_surname, a.dob


def _add_staff(school: SampleSchool, factory: _Factory, count: int) -> None:
    """A Head, class teachers for as many classes as staff allow, then TAs and office staff (1 in 3)."""
    reg_groups = school.reg_groups()
    teachers = min(len(reg_groups), max(0, count - 1))
    titles = ["Head"][:count] + ["Teacher"] * teachers
    titles += ["Office" if i % 3 == 2 else "TA" for i in range(count - len(titles))]
    for index, title in enumerate(titles):
        classes = [reg_groups[index - 1]] if title == "Teacher" else []
        school.staff.append(factory.staff_member(title, classes))
    # Subject groups go round the Head, then TAs, then class teachers.
    teaching = [s for title in ("Head", "TA", "Teacher") for s in school.staff if s.title == title]
    for index, group in enumerate(school.subject_groups() if teaching else []):
        teaching[index % len(teaching)].classes.append(group)


def _copy(school: SampleSchool) -> SampleSchool:
    """A copy that shares no mutable object with the original."""
    pupils = [replace(p, groups=list(p.groups)) for p in school.pupils]
    staff = [replace(s, classes=list(s.classes)) for s in school.staff]
    return replace(school, pupils=pupils, staff=staff, class_ids=dict(school.class_ids))


def next_academic_year(school: SampleSchool, seed: int) -> SampleSchool:
    """The school a year on: the top year leaves, everyone else moves up (a few change form), every class
    gets a new MIS id under its old name, a new bottom-year intake arrives, one member of staff leaves and
    another joins in their place. The input is not changed."""
    new = _copy(school)
    new.academic_year += 1
    new.class_ids = _new_class_ids(new)
    rng = random.Random(f"next:{seed}:{school.academic_year}")
    factory = _Factory(new, rng)
    moved: list[SamplePupil] = []
    for pupil in school.pupils:
        position = new.years.index(pupil.year)
        if position + 1 == len(new.years):
            continue
        year = new.years[position + 1]
        form = pupil.reg_group.split(" ", 1)[1]
        if len(new.forms) > 1 and rng.random() < FORM_MOVE_RATE:
            form = rng.choice([f for f in new.forms if f != form])
        reg_group = f"{_short(year)} {form}"
        class_id, groups = new.class_ids[reg_group], factory.groups(year)
        moved.append(replace(pupil, year=year, reg_group=reg_group, reg_group_id=class_id, groups=groups))
    new.pupils = factory.year_group(new.years[0], factory.class_sizes()) + moved
    leavers = [s for s in new.staff if s.title != "Head"] or new.staff
    if leavers:
        leaver = rng.choice(leavers)
        new.staff.remove(leaver)
        new.staff.append(factory.staff_member(leaver.title, leaver.classes))
    return new


def mid_year_changes(
    school: SampleSchool, seed: int, joiners: int = 5, leavers: int = 3, surname_changes: int = 1
) -> SampleSchool:
    """The school later in the same year: `leavers` pupils gone, `joiners` new pupils (fresh ids) in
    existing classes, and `surname_changes` pupils with a new surname (same adno and UPN)."""
    new = _copy(school)
    rng = random.Random(f"mid:{seed}:{school.academic_year}:{len(school.pupils)}")
    factory = _Factory(new, rng)
    gone = set(rng.sample(range(len(new.pupils)), min(leavers, len(new.pupils))))
    new.pupils = [p for i, p in enumerate(new.pupils) if i not in gone]
    for index in rng.sample(range(len(new.pupils)), min(surname_changes, len(new.pupils))):
        pupil = new.pupils[index]
        surname = next(s for s in iter(factory.surname, None) if s != pupil.surname)
        new.pupils[index] = replace(pupil, surname=surname, legal_surname=surname)
    for _ in range(joiners):
        year = rng.choice(new.years)
        new.pupils.append(factory.pupil(year, f"{_short(year)} {rng.choice(new.forms)}"))
    return new


# --- writers -----------------------------------------------------------------------------------------


def _staff_split(school: SampleSchool, member: SampleStaff) -> tuple[str, list[str]]:
    reg_group = next((c for c in member.classes if c in school.class_ids), "")
    return reg_group, [c for c in member.classes if c != reg_group]


def _spreadsheet_rows(school: SampleSchool, role: str | None) -> Iterable[list[object]]:
    """Rows in `SPREADSHEET_HEADERS` order; DOB as a date (or None for staff)."""
    if role in (None, "Pupil"):
        for p in school.pupils:
            names = [p.legal_forename, p.legal_surname, p.forename, p.surname]
            yield [p.adno, p.upn, *names, p.year, p.reg_group, p.dob, "", "Pupil", ";".join(p.groups)]
    if role in (None, "Staff"):
        for s in school.staff:
            reg_group, others = _staff_split(school, s)
            names = [s.forename, s.surname, s.forename, s.surname]
            yield [s.staff_code, "", *names, "", reg_group, None, s.email, "Staff", ";".join(others)]


def write_spreadsheet(
    school: SampleSchool, path: str | Path, *, encoding: str = "utf-8", split: bool = False
) -> list[Path]:
    """Write a SIMS-style export (`SPREADSHEET_HEADERS`; DOB dd/mm/yyyy, groups `;`-separated): one file
    with a Role column, or with `split` `<stem>-pupils` and `<stem>-staff` files without it. A `.xlsx`
    path writes a workbook with real date cells (`encoding` then does not apply)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts: list[tuple[Path, str | None]] = [(path, None)]
    if split:
        parts = [(path.with_name(f"{path.stem}-{part}{path.suffix}"), kind) for part, kind in _SPLIT_PARTS]
    for target, role in parts:
        # A split staff file has no pupil columns (UPN, Year, DOB), as an MIS staff export would not.
        dropped = {"Role"} | ({"UPN", "Year", "DOB"} if role == "Staff" else set())
        keep = [i for i, header in enumerate(SPREADSHEET_HEADERS) if not (role and header in dropped)]
        headers = [SPREADSHEET_HEADERS[i] for i in keep]
        if role == "Staff":
            headers = ["Staff Code" if header == "Adno" else header for header in headers]
        rows = ([row[i] for i in keep] for row in _spreadsheet_rows(school, role))
        if target.suffix.lower() == ".xlsx":
            _write_xlsx(target, headers, rows)
            continue
        with target.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows([v.strftime("%d/%m/%Y") if isinstance(v, date) else v for v in r] for r in rows)
    return [target for target, _ in parts]


def _write_xlsx(path: Path, headers: list[str], rows: Iterable[list[object]]) -> None:
    from openpyxl import Workbook  # imported here: only XLSX writing needs it
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    sheet.append(headers)
    for row in rows:
        for index, value in enumerate(row):
            if isinstance(value, date):
                row[index] = cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY"
        sheet.append(row)
    book.save(path)


ONEROSTER_HEADERS: dict[str, str] = {
    "orgs": "name type identifier parentSourcedId",
    "academicSessions": "title type startDate endDate parentSourcedId schoolYear",
    "courses": "schoolYearSourcedId title courseCode grades orgSourcedId subjects subjectCodes",
    "classes": "title grades courseSourcedId classCode classType location schoolSourcedId termSourcedIds "
    "subjects subjectCodes periods",
    "enrollments": "classSourcedId schoolSourcedId userSourcedId role primary beginDate endDate",
    "demographics": "birthDate sex americanIndianOrAlaskaNative asian blackOrAfricanAmerican "
    "nativeHawaiianOrOtherPacificIslander white demographicRaceTwoOrMoreRaces hispanicOrLatinoEthnicity "
    "countryOfBirthCode stateOfBirthAbbreviation cityOfBirth publicSchoolResidenceStatus",
    "users-1.1": "enabledUser orgSourcedIds role username userIds givenName familyName middleName identifier "
    "email sms phone agentSourcedIds grades password",
    "users-1.2": "enabledUser username userIds givenName familyName middleName identifier email sms phone "
    "agentSourcedIds grades password userMasterIdentifier preferredGivenName preferredMiddleName "
    "preferredFamilyName primaryOrgSourcedId pronouns",
    "roles": "userSourcedId roleType role beginDate endDate orgSourcedId userProfileSourcedId",
}  # each file's columns after the common sourcedId, status, dateLastModified
# fmt: off
MANIFEST_FILES: tuple[str, ...] = ("academicSessions", "categories", "classes", "classResources", "courses",
                                   "courseResources", "demographics", "enrollments", "lineItems", "orgs",
                                   "resources", "results", "users")
# fmt: on
STAFF_ROLES = {"Teacher": "teacher", "TA": "aide", "Head": "administrator", "Office": "administrator"}
COURSES = {"crs-registration": "Registration", "crs-maths": "Maths", "crs-phonics": "Phonics"}
COURSES |= {"crs-clubs": "Clubs"}


def oneroster_columns(name: str, version: str = "1.1") -> list[str]:
    """The header of one OneRoster CSV file (`name` without `.csv`) as this module writes it."""
    key = f"users-{version}" if name == "users" else name
    return ["sourcedId", "status", "dateLastModified", *ONEROSTER_HEADERS[key].split()]


def group_sourced_id(group: str) -> str:
    """The stable OneRoster sourcedId of a subject group (the same every academic year)."""
    return "grp-" + "-".join(re.findall(r"[a-z0-9]+", _ascii_words(group).lower()))


def _course(group: str) -> str:
    return "crs-maths" if "Maths" in group else "crs-phonics" if "Phonics" in group else "crs-clubs"


def write_oneroster(
    school: SampleSchool, path: str | Path, *, version: str = "1.1", delta: bool = False
) -> Path:
    """Write a OneRoster 1.1 or 1.2 CSV set (a zip if `path` ends in .zip, else a folder).

    1.1 carries the names pupils are known by as given/family names; 1.2 carries legal names there and
    known-by names as preferred names (when they differ), with roles in roles.csv. Users' sourcedIds are
    `u-<adno>`/`u-<staff code>`, stable across years; a registration group's is its MIS class id (new each
    year); a subject group's is `group_sourced_id` (stable). Pupils' `username` is their adno and staff's
    their email: missync makes its own usernames. `delta` marks every file delta and every row active with
    a dateLastModified: the whole school restated, not a computed difference."""
    if version not in ("1.1", "1.2"):
        raise ValueError(f"OneRoster version must be 1.1 or 1.2, not {version!r}")
    path, ay = Path(path), school.academic_year
    state = {"status": "active", "dateLastModified": f"{ay}-09-01T00:00:00.000Z"} if delta else {}
    org, term = f"org-{school.slug}", f"as-{ay}"
    files: dict[str, list[Mapping[str, object]]] = {"orgs": [], "academicSessions": [], "courses": []}
    files |= {"classes": [], "users": [], "enrollments": [], "demographics": [], "roles": []}
    files["orgs"].append(
        {"sourcedId": org, "name": school.name, "type": "school", "identifier": school.dfe_number}
    )
    dates = {"startDate": f"{ay}-09-01", "endDate": f"{ay + 1}-08-31", "schoolYear": ay + 1}
    files["academicSessions"].append(
        {"sourcedId": term, "title": f"{ay}/{(ay + 1) % 100:02d}", "type": "schoolYear", **dates}
    )
    for sid, title in COURSES.items():
        files["courses"].append(
            {"sourcedId": sid, "schoolYearSourcedId": term, "title": title, "orgSourcedId": org}
        )
    grades: dict[str, set[str]] = {}

    def user(sid: str, role: str, known: tuple[str, str], legal: tuple[str, str], /, **values: str) -> None:
        values |= {"sourcedId": sid, "enabledUser": "true"}
        values["username"] = values.get("email") or values["identifier"]
        if version == "1.1":
            files["users"].append(
                values | {"orgSourcedIds": org, "role": role, "givenName": known[0], "familyName": known[1]}
            )
            return
        values |= {"givenName": legal[0], "familyName": legal[1], "primaryOrgSourcedId": org}
        values |= {"preferredGivenName": known[0] if known[0] != legal[0] else ""}
        values |= {"preferredFamilyName": known[1] if known[1] != legal[1] else ""}
        files["users"].append(values)
        role_row = {"userSourcedId": sid, "roleType": "primary", "role": role, "orgSourcedId": org}
        files["roles"].append({"sourcedId": f"r-{sid}", **role_row})

    def enrol(class_sid: str, user_sid: str, role: str, primary: str = "") -> None:
        row = {
            "sourcedId": f"e-{class_sid}-{user_sid}",
            "classSourcedId": class_sid,
            "userSourcedId": user_sid,
        }
        files["enrollments"].append(row | {"schoolSourcedId": org, "role": role, "primary": primary})

    for p in school.pupils:
        sid, grade = f"u-{p.adno}", grade_code(p.year)
        names = (p.forename, p.surname), (p.legal_forename, p.legal_surname)
        more = {"userMasterIdentifier": p.upn} if version == "1.2" else {}
        user(sid, "student", *names, userIds=f"{{UPN:{p.upn}}}", identifier=p.adno, grades=grade, **more)
        files["demographics"].append({"sourcedId": sid, "birthDate": p.dob.isoformat()})
        enrol(p.reg_group_id, sid, "student")
        for group in p.groups:
            grades.setdefault(group, set()).add(grade)
            enrol(group_sourced_id(group), sid, "student")
    for s in school.staff:
        sid, (reg_group, _) = f"u-{s.staff_code}", _staff_split(school, s)
        name_pair = (s.forename, s.surname)
        ids = {"userIds": f"{{StaffCode:{s.staff_code}}}", "identifier": s.staff_code, "email": s.email}
        user(sid, STAFF_ROLES.get(s.title, "teacher"), name_pair, name_pair, **ids)
        for name in s.classes:
            class_sid = school.class_ids.get(name) or group_sourced_id(name)
            enrol(class_sid, sid, "teacher", "true" if name == reg_group else "false")
    common = {"schoolSourcedId": org, "termSourcedIds": term}
    short_years = {_short(year): year for year in school.years}
    for name, class_id in school.class_ids.items():
        grade = grade_code(short_years[name.split(" ", 1)[0]])
        course = {"courseSourcedId": "crs-registration", "classCode": name, "classType": "homeroom"}
        files["classes"].append({"sourcedId": class_id, "title": name, "grades": grade, **course, **common})
    for group in school.subject_groups():
        grade = ",".join(sorted(grades.get(group, ())))
        course = {"courseSourcedId": _course(group), "classType": "scheduled"}
        files["classes"].append(
            {"sourcedId": group_sourced_id(group), "title": group, "grades": grade, **course, **common}
        )
    if version == "1.1":
        del files["roles"]
    mode = "delta" if delta else "bulk"
    listed = MANIFEST_FILES + (("roles", "userProfiles") if version == "1.2" else ())
    manifest = [["manifest.version", "1.0"], ["oneroster.version", version]]
    manifest += [[f"file.{name}", mode if name in files else "absent"] for name in listed]
    manifest += [["source.systemName", "missync sample"], ["source.systemCode", school.slug]]
    texts = {"manifest.csv": _csv_text(["propertyName", "value"], manifest)}
    for name, rows in files.items():
        texts[f"{name}.csv"] = _csv_text(oneroster_columns(name, version), ({**state, **row} for row in rows))
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in texts.items():  # a fixed timestamp keeps the zip byte-for-byte reproducible
                info = zipfile.ZipInfo(name, (ay, 9, 1, 0, 0, 0))
                archive.writestr(info, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (path / name).write_text(text, encoding="utf-8", newline="")
    return path


def _csv_text(headers: list[str], rows: Iterable[Sequence[object] | Mapping[str, object]]) -> str:
    """CSV text (csv module quoting, CRLF line ends, a final newline); dict rows leave missing cells blank."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers] if isinstance(row, Mapping) else row)
    return buffer.getvalue()
