"""Manage Users: tabs, search and filters, adding users, renaming classes, restoring leavers, and the walls
between roles and schools."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, Membership, School, SchoolClass
from missync.wizard.access import teacher_class_ids
from missync.wizard.models import SchoolMembership
from missync.wizard.templatetags.manage_tags import optional_url

from .conftest import SyncedSchool, signed_in


def _pupil_login(request: HttpRequest, school: str, account_id: int) -> HttpResponse:
    return HttpResponse("login details")


# A URL configuration with a `pupil-login` page, for the link test, whether or not the real one exists yet.
urlpatterns = [
    path("<slug:school>/pupils/<int:account_id>/login-test/", _pupil_login, name="pupil-login"),
    path("", include("missync.urls")),
]

TAB_URLS = ["", "staff/", "classes/", "groups/", "archived/"]


# -- helpers ---------------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Collects what the accessibility checks need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.tables = self.captions = 0
        self.th_without_scope = 0
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and not a.get("scope"):
            self.th_without_scope += 1
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append({**a, "wrapped": "yes" if self.label_depth else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def check_accessible(content: bytes) -> None:
    """One h1, headings in order, captioned tables with scoped headers, a label for every control."""
    page = _Page()
    page.feed(content.decode())
    assert page.headings.count(1) == 1, page.headings
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    assert page.tables == page.captions
    assert page.th_without_scope == 0
    for control in page.controls:
        assert control["wrapped"] or control.get("id") in page.label_for, control
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"


def usernames_in(content: bytes) -> set[str]:
    return set(re.findall(r'<td class="username">([^<]+)</td>', content.decode()))


def taught(oak: SyncedSchool) -> set[int]:
    membership = SchoolMembership.objects.get(school=oak.school, role="teacher")
    ids = teacher_class_ids(membership)
    assert ids
    return ids


def pupils_of(school: School, class_ids: set[int]) -> set[str]:
    return set(
        Account.objects.filter(school=school, role="pupil", status="active")
        .filter(Q(registration_class_id__in=class_ids) | Q(memberships__school_class_id__in=class_ids))
        .values_list("username", flat=True)
    )


def all_pages(client: Client, url: str) -> tuple[set[str], list[bytes]]:
    """Every username listed over every page of a tab, and each page."""
    found: set[str] = set()
    pages = []
    for number in range(1, 50):
        separator = "&" if "?" in url else "?"
        response = client.get(f"{url}{separator}page={number}")
        assert response.status_code == 200
        pages.append(response.content)
        found |= usernames_in(response.content)
        if b'rel="next"' not in response.content:
            return found, pages
    raise AssertionError("too many pages")


def revision(school: School) -> int:
    return School.objects.get(pk=school.pk).revision


def a_class(school: School, name: str) -> SchoolClass:
    return SchoolClass.objects.get(school=school, name=name, status="active")


@pytest.fixture
def elm_admin(elm: SyncedSchool) -> Client:
    return signed_in(elm, elm.admin_email)


@pytest.fixture
def leaver(oak: SyncedSchool) -> Account:
    """A pupil who left: archived, as a sync leaves a leaver."""
    pupil = Account.objects.filter(school=oak.school, role="pupil").order_by("id").first()
    assert pupil is not None
    pupil.status = "archived"
    pupil.save()
    return pupil


# -- the tabs --------------------------------------------------------------------------------------
def test_every_tab_as_admin(oak: SyncedSchool, admin: Client, leaver: Account) -> None:
    school = oak.school
    counts = {
        "": Account.objects.filter(school=school, role="pupil", status="active").count(),
        "staff/": Account.objects.filter(school=school, role="staff", status="active").count(),
        "classes/": SchoolClass.objects.filter(school=school, kind="registration", status="active").count(),
        "groups/": SchoolClass.objects.filter(school=school, kind="subject", status="active").count(),
        "archived/": 1,
    }
    for tab in TAB_URLS:
        page = admin.get(f"/oak/manage/{tab}")
        assert page.status_code == 200, tab
        check_accessible(page.content)
        html = page.content.decode()
        assert re.search(rf'<a href="/oak/manage/{tab}" aria-current="page">', html), tab
        assert html.count('aria-current="page"') == 2  # the main menu's Manage Users, and this tab
        for other, count in counts.items():
            assert re.search(
                rf'href="/oak/manage/{other}"[^>]*>[^<]+<span class="tab-count">\({count}\)', html
            )
        assert "Add a user" in html
    staff = admin.get("/oak/manage/staff/").content
    assert oak.teacher.username in usernames_in(staff)
    row = re.search(rf">{oak.teacher.username}<.*?</tr>", staff.decode(), re.S)
    assert row is not None and "Teacher" in row.group(0)
    classes = admin.get("/oak/manage/classes/").content.decode()
    assert "name classes exactly as in the MIS" in classes
    r_oak = a_class(school, "R Oak")
    row = re.search(rf'id="class-{r_oak.pk}-name".*?</tr>', classes, re.S)
    assert row is not None
    pupils_in_r_oak = Account.objects.filter(registration_class=r_oak, status="active").count()
    assert f"{pupils_in_r_oak} pupils" in row.group(0)
    assert "MIS sync" in row.group(0) and oak.teacher.surname in row.group(0)
    groups = admin.get("/oak/manage/groups/").content
    assert b"Choir" in groups and b"R Oak" not in groups
    archived = admin.get("/oak/manage/archived/").content
    assert usernames_in(archived) == {leaver.username}
    assert b"never deleted" in archived and b"restores them automatically" in archived


def test_the_pupils_tab_lists_every_active_pupil_over_its_pages(
    oak: SyncedSchool, admin: Client, leaver: Account
) -> None:
    found, pages = all_pages(admin, "/oak/manage/")
    expected = set(
        Account.objects.filter(school=oak.school, role="pupil", status="active").values_list(
            "username", flat=True
        )
    )
    assert found == expected and leaver.username not in found
    assert len(pages) == 4 and len(usernames_in(pages[0])) == 100
    assert b"Page 1 of 4" in pages[0] and b'rel="prev"' not in pages[0]
    assert b'rel="prev"' in pages[1]
    assert b"Page 4 of 4" in admin.get("/oak/manage/?page=999").content
    assert b"Page 1 of 4" in admin.get("/oak/manage/?page=abc").content


def test_a_teacher_sees_only_their_classes_groups_and_pupils(oak: SyncedSchool, teacher: Client) -> None:
    ids = taught(oak)
    found, _ = all_pages(teacher, "/oak/manage/")
    assert found == pupils_of(oak.school, ids)
    html = teacher.get("/oak/manage/").content.decode()
    assert "/oak/manage/staff/" not in html and "/oak/manage/archived/" not in html
    assert "Add a user" not in html
    check_accessible(teacher.get("/oak/manage/").content)
    mine = SchoolClass.objects.filter(pk__in=ids)
    others = SchoolClass.objects.filter(school=oak.school).exclude(pk__in=ids)
    for tab, kind in (("classes/", "registration"), ("groups/", "subject")):
        page = teacher.get(f"/oak/manage/{tab}")
        assert page.status_code == 200
        check_accessible(page.content)
        names = set(re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]+">([^<]+)</a>', page.content.decode()))
        assert names == {c.name for c in mine if c.kind == kind}
        assert b"Rename" not in page.content and b'hx-trigger="dblclick"' not in page.content
        for other in others.filter(kind=kind):
            assert f">{other.name}<".encode() not in page.content


@pytest.mark.parametrize(
    "url",
    ["staff/", "archived/", "add/", "classes/{c}/rename/", "classes/{c}/name/", "archived/{a}/restore/"],
)
def test_a_teacher_cannot_reach_admin_pages(
    oak: SyncedSchool, teacher: Client, leaver: Account, url: str
) -> None:
    url = "/oak/manage/" + url.format(c=min(taught(oak)), a=leaver.pk)  # their own class, even
    assert teacher.get(url).status_code == 404
    assert teacher.get(url, HTTP_HX_REQUEST="true").status_code == 404
    assert teacher.post(url, {**GOOD_PUPIL, "name": "Hacked"}).status_code == 404


def test_a_teacher_cannot_rename_or_restore(oak: SyncedSchool, teacher: Client, leaver: Account) -> None:
    mine = SchoolClass.objects.get(pk=min(taught(oak)))
    before = revision(oak.school)
    url = f"/oak/manage/classes/{mine.pk}/rename/"
    assert teacher.post(url, {"name": "Renamed"}, HTTP_HX_REQUEST="true").status_code == 404
    assert teacher.post(url, {"name": "Renamed"}).status_code == 404
    assert teacher.post(f"/oak/manage/archived/{leaver.pk}/restore/").status_code == 404
    assert SchoolClass.objects.get(pk=mine.pk).name == mine.name
    assert Account.objects.get(pk=leaver.pk).status == "archived"
    assert revision(oak.school) == before


def test_class_pages(oak: SyncedSchool, admin: Client, teacher: Client) -> None:
    ids = taught(oak)
    for school_class in SchoolClass.objects.filter(school=oak.school):
        page = admin.get(f"/oak/manage/classes/{school_class.pk}/")
        assert page.status_code == 200
        registered = Account.objects.filter(registration_class=school_class, status="active", role="pupil")
        members = Account.objects.filter(memberships__school_class=school_class, status="active")
        expected = set(registered.values_list("username", flat=True)) | {
            a.username for a in members if a.role == "pupil"
        }
        assert usernames_in(page.content) == expected
        for member in members.filter(role="staff"):
            assert f"({member.username})".encode() in page.content
        status = teacher.get(f"/oak/manage/classes/{school_class.pk}/").status_code
        assert status == (200 if school_class.pk in ids else 404)
    check_accessible(admin.get(f"/oak/manage/classes/{min(ids)}/").content)
    mine = teacher.get(f"/oak/manage/classes/{min(ids)}/")
    check_accessible(mine.content)
    assert b"Rename" not in mine.content
    assert admin.get("/oak/manage/classes/999999/").status_code == 404


# -- search and filters ----------------------------------------------------------------------------
def test_search_by_name_or_username_ignoring_case(oak: SyncedSchool, admin: Client) -> None:
    pupil = (
        Account.objects.filter(school=oak.school, role="pupil", forename__regex=r"^[A-Za-z]+$")
        .exclude(surname__regex=r"[^A-Za-z]")
        .order_by("id")
        .first()
    )
    assert pupil is not None
    same_surname = set(
        Account.objects.filter(
            school=oak.school, role="pupil", status="active", surname__icontains=pupil.surname
        ).values_list("username", flat=True)
    )
    for query in (pupil.surname.lower(), pupil.username.upper(), f"{pupil.forename.upper()} {pupil.surname}"):
        page = admin.get("/oak/manage/", {"q": query})
        assert pupil.username in usernames_in(page.content), query
        check_accessible(page.content)
    found, _ = all_pages(admin, f"/oak/manage/?q={pupil.surname.lower()}")
    assert same_surname <= found
    both = admin.get("/oak/manage/", {"q": f"{pupil.forename} {pupil.surname}"}).content
    for username in usernames_in(both):
        person = Account.objects.get(school=oak.school, username=username)
        text = f"{person.forename} {person.surname} {person.username}".lower()
        assert pupil.forename.lower() in text and pupil.surname.lower() in text
    nobody = admin.get("/oak/manage/", {"q": "zzqqxx"})
    assert usernames_in(nobody.content) == set() and b"No pupils match" in nobody.content
    assert b'href="/oak/manage/"' in nobody.content  # Clear
    staff = admin.get("/oak/manage/staff/", {"q": oak.teacher.surname.upper()})
    assert oak.teacher.username in usernames_in(staff.content)
    literal = admin.get("/oak/manage/", {"q": "%"})  # wildcards are searched for, not used
    assert usernames_in(literal.content) == set()


def test_filter_by_class_group_and_year(oak: SyncedSchool, admin: Client) -> None:
    school = oak.school
    r_oak = a_class(school, "R Oak")
    page = admin.get("/oak/manage/", {"class": r_oak.pk})
    expected = set(
        Account.objects.filter(registration_class=r_oak, status="active").values_list("username", flat=True)
    )
    assert usernames_in(page.content) == expected
    assert f'<option value="{r_oak.pk}" selected>'.encode() in page.content
    choir = a_class(school, "Choir")
    page = admin.get("/oak/manage/", {"class": choir.pk})
    expected = set(
        Account.objects.filter(memberships__school_class=choir, role="pupil", status="active").values_list(
            "username", flat=True
        )
    )
    assert expected and usernames_in(page.content) == expected
    year_3 = set(
        Account.objects.filter(school=school, role="pupil", status="active", year_group="Year 3").values_list(
            "username", flat=True
        )
    )
    found, _ = all_pages(admin, "/oak/manage/?year=Year+3")
    assert found == year_3
    both = admin.get("/oak/manage/", {"year": "Year 3", "class": choir.pk})
    assert usernames_in(both.content) == expected & year_3
    staff = admin.get("/oak/manage/staff/", {"class": r_oak.pk})
    assert usernames_in(staff.content) == {oak.teacher.username}
    bad = admin.get("/oak/manage/", {"year": "Year 99", "class": "nope"})
    assert bad.status_code == 200 and usernames_in(bad.content) == set()
    assert b"Choose a year group from the list." in bad.content
    assert b"Choose a class or group from the list." in bad.content


def test_a_teacher_cannot_filter_on_a_class_they_do_not_teach(oak: SyncedSchool, teacher: Client) -> None:
    other = SchoolClass.objects.filter(school=oak.school).exclude(pk__in=taught(oak)).first()
    assert other is not None
    page = teacher.get("/oak/manage/", {"class": other.pk})
    assert page.status_code == 200 and usernames_in(page.content) == set()
    assert b"Choose a class or group from the list." in page.content
    assert f">{other.name}<".encode() not in page.content


def test_htmx_search_replaces_only_the_results(oak: SyncedSchool, admin: Client) -> None:
    page = admin.get("/oak/manage/", {"q": "a"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" not in html and "<h1" not in html
    assert "<table" in html and 'hx-swap-oob="innerHTML"' in html and "pupils match" in html
    assert "HX-Request" in page["Vary"]
    full = admin.get(
        "/oak/manage/", {"q": "a"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert b"<html" in full.content  # going back in history needs the whole page
    plain = admin.get("/oak/manage/", {"q": "a"})
    assert b'hx-get="/oak/manage/"' in plain.content and b'hx-push-url="true"' in plain.content
    for tab in ("classes/", "groups/"):
        partial = admin.get(
            f"/oak/manage/{tab}", {"q": "oak"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
        )
        assert b"<html" not in partial.content and b"<table" in partial.content


def test_the_pupils_tab_costs_a_fixed_number_of_queries(
    oak: SyncedSchool, admin: Client, teacher: Client, django_assert_max_num_queries: Any
) -> None:
    def count(client: Client, query: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/oak/manage/{query}").status_code == 200
        return len(queries)

    with django_assert_max_num_queries(12):
        full = admin.get("/oak/manage/")
    assert len(usernames_in(full.content)) == 100
    with django_assert_max_num_queries(14):
        teacher.get("/oak/manage/")
    # a page of 100 pupils costs exactly what a page of 1 does
    one = Account.objects.filter(school=oak.school, role="pupil").order_by("id").first()
    assert one is not None
    assert count(admin, "") == count(admin, f"?q={one.username}")
    assert count(teacher, "") == count(teacher, f"?q={one.username}")
    for tab in ("staff/", "classes/", "groups/", "archived/"):
        with django_assert_max_num_queries(14):
            admin.get(f"/oak/manage/{tab}")


# -- adding users ----------------------------------------------------------------------------------
GOOD_PUPIL = {
    "forename": "Testy",
    "surname": "Exampleton",
    "role": "pupil",
    "school_class": "",
    "new_class": "Nursery Owls",
    "year": "Nursery",
    "email": "",
    "dob": "2021-05-04",
}


def test_add_a_pupil_shows_the_password_once(oak: SyncedSchool, admin: Client) -> None:
    page = admin.get("/oak/manage/add/")
    assert page.status_code == 200
    check_accessible(page.content)
    before = revision(oak.school)
    response = admin.post("/oak/manage/add/", GOOD_PUPIL)
    assert response.status_code == 302 and response["Location"] == "/oak/manage/add/"
    pupil = Account.objects.get(school=oak.school, forename="Testy", surname="Exampleton")
    assert pupil.role == "pupil" and pupil.source == "" and pupil.status == "active"
    assert pupil.registration_class is not None and pupil.registration_class.name == "Nursery Owls"
    assert pupil.registration_class.source == "" and pupil.registration_class.kind == "registration"
    assert pupil.year_group == "Nursery" and str(pupil.dob) == "2021-05-04"
    assert revision(oak.school) > before
    password = decrypt_credential(pupil.credential)
    assert password
    shown = admin.get("/oak/manage/add/")
    assert f">{pupil.username}<".encode() in shown.content and f">{password}<".encode() in shown.content
    assert shown["Cache-Control"] == "no-store"
    check_accessible(shown.content)
    again = admin.get("/oak/manage/add/")
    assert f">{password}<".encode() not in again.content  # once only
    assert pupil.username in usernames_in(admin.get("/oak/manage/", {"q": "Exampleton"}).content)


def test_add_staff_to_an_existing_class(oak: SyncedSchool, admin: Client) -> None:
    ash = a_class(oak.school, "R Ash")
    data = {
        **GOOD_PUPIL,
        "role": "staff",
        "school_class": ash.pk,
        "new_class": "",
        "email": "t.ex@oak.example.org",
    }
    data["year"] = "Year 2"  # ignored for staff
    assert admin.post("/oak/manage/add/", data).status_code == 302
    person = Account.objects.get(school=oak.school, email="t.ex@oak.example.org")
    assert person.role == "staff" and person.credential == "" and person.year_group is None
    assert list(Membership.objects.filter(account=person).values_list("school_class_id", flat=True)) == [
        ash.pk
    ]
    shown = admin.get("/oak/manage/add/")
    assert f">{person.username}<".encode() in shown.content and b"Password" not in shown.content
    classes = admin.get("/oak/manage/classes/").content.decode()
    assert re.search(rf'id="class-{ash.pk}-name".*?Exampleton.*?</tr>', classes, re.S)


def test_a_typed_class_name_joins_the_class_of_that_name(oak: SyncedSchool, admin: Client) -> None:
    r_oak = a_class(oak.school, "R Oak")
    classes = SchoolClass.objects.count()
    assert admin.post("/oak/manage/add/", {**GOOD_PUPIL, "new_class": "  r oak "}).status_code == 302
    assert SchoolClass.objects.count() == classes
    assert Account.objects.get(surname="Exampleton").registration_class_id == r_oak.pk


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"forename": "  "}, "forename", "This field is required."),
        ({"surname": ""}, "surname", "This field is required."),
        ({"role": "governor"}, "role", "Select a valid choice."),
        ({"year": "Year 99"}, "year", "Select a valid choice."),
        ({"dob": "31/02/2020"}, "dob", "Enter a valid date."),
        ({"dob": "2999-01-01"}, "dob", "Enter a date of birth in the past"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"school_class": "999999"}, "school_class", "Choose a class from the list."),
        ({"new_class": "x" * 201}, "new_class", "at most 200 characters"),
        ({"role": "staff", "email": ""}, "email", "staff sign in with it"),
    ],
)
def test_bad_input_gives_a_clear_message_and_writes_nothing(
    oak: SyncedSchool, admin: Client, changes: dict[str, str], field: str, message: str
) -> None:
    before = (Account.objects.count(), SchoolClass.objects.count(), Membership.objects.count())
    school_revision = revision(oak.school)
    page = admin.post("/oak/manage/add/", {**GOOD_PUPIL, **changes})
    assert page.status_code == 200
    html = page.content.decode()
    error = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert error is not None and message in error.group(1), html[-3000:]
    assert "Nothing was saved" in html
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', html)
    check_accessible(page.content)
    assert (Account.objects.count(), SchoolClass.objects.count(), Membership.objects.count()) == before
    assert revision(oak.school) == school_revision


def test_choosing_a_class_and_typing_one_or_a_taken_staff_email_is_refused(
    oak: SyncedSchool, admin: Client
) -> None:
    count = Account.objects.count()
    both = admin.post("/oak/manage/add/", {**GOOD_PUPIL, "school_class": a_class(oak.school, "R Oak").pk})
    assert b"not both" in both.content
    taken = {**GOOD_PUPIL, "role": "staff", "email": oak.teacher_email.upper(), "new_class": ""}
    assert b"already has this email" in admin.post("/oak/manage/add/", taken).content
    assert Account.objects.count() == count


# -- renaming classes ------------------------------------------------------------------------------
def test_rename_a_class_inline_with_htmx(oak: SyncedSchool, admin: Client) -> None:
    r_oak = a_class(oak.school, "R Oak")
    url = f"/oak/manage/classes/{r_oak.pk}/rename/"
    form = admin.get(url, HTTP_HX_REQUEST="true")
    html = form.content.decode()
    assert form.status_code == 200 and "<html" not in html
    assert f'hx-post="{url}"' in html and 'value="R Oak"' in html and "autofocus" in html
    assert "keyup[key==&#x27;Escape&#x27;]" in html or "keyup[key=='Escape']" in html
    check_name = admin.get(f"/oak/manage/classes/{r_oak.pk}/name/", HTTP_HX_REQUEST="true")
    assert b"R Oak" in check_name.content and b"<form" not in check_name.content  # Escape puts it back
    assert admin.get(f"/oak/manage/classes/{r_oak.pk}/name/").url == "/oak/manage/classes/"  # without htmx
    before = revision(oak.school)
    saved = admin.post(url, {"name": "  Reception Oak "}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200 and b"<html" not in saved.content
    assert b"Reception Oak" in saved.content and b'role="status"' in saved.content
    assert b"autofocus" in saved.content  # focus returns to the Rename button
    assert SchoolClass.objects.get(pk=r_oak.pk).name == "Reception Oak"
    assert revision(oak.school) == before + 1
    same = admin.post(url, {"name": "Reception Oak"}, HTTP_HX_REQUEST="true")
    assert b"Name unchanged" in same.content and revision(oak.school) == before + 1
    classes = admin.get("/oak/manage/classes/").content.decode()
    assert f'hx-get="{url}" hx-trigger="dblclick"' in re.sub(r"\s+", " ", classes)
    assert f'<a class="button small secondary" href="{url}"' in classes  # keyboard and no-JS


def test_rename_a_class_with_a_plain_form(oak: SyncedSchool, admin: Client) -> None:
    choir = a_class(oak.school, "Choir")
    url = f"/oak/manage/classes/{choir.pk}/rename/"
    page = admin.get(url)
    assert page.status_code == 200 and b"<h1>Rename subject group Choir</h1>" in page.content
    assert b"hx-post" not in page.content
    check_accessible(page.content)
    response = admin.post(url, {"name": "School Choir"}, follow=True)
    assert response.redirect_chain == [("/oak/manage/groups/", 302)]
    assert "Renamed “Choir” to “School Choir”." in response.content.decode()
    assert SchoolClass.objects.get(pk=choir.pk).name == "School Choir"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "Enter a class name."),
        ("x" * 201, "at most 200 characters"),
        ("r ash", "Another class is already called &quot;R Ash&quot;"),
        ("Choir", "Another class is already called &quot;Choir&quot;"),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_rename_refuses_bad_names(
    oak: SyncedSchool, admin: Client, name: str, message: str, htmx: bool
) -> None:
    r_oak = a_class(oak.school, "R Oak")
    before = revision(oak.school)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    page = admin.post(f"/oak/manage/classes/{r_oak.pk}/rename/", {"name": name}, **headers)
    assert page.status_code == 200
    html = page.content.decode()
    assert message in html and 'aria-invalid="true"' in html
    assert ("<html" in html) is not htmx
    assert SchoolClass.objects.get(pk=r_oak.pk).name == "R Oak"
    assert revision(oak.school) == before


def test_rename_may_reuse_an_archived_class_name_and_change_case(oak: SyncedSchool, admin: Client) -> None:
    old = SchoolClass.objects.create(school=oak.school, name="Old Class", status="archived")
    r_oak = a_class(oak.school, "R Oak")
    url = f"/oak/manage/classes/{r_oak.pk}/rename/"
    assert admin.post(url, {"name": "Old Class"}).status_code == 302
    assert admin.post(url, {"name": "OLD CLASS"}).status_code == 302
    assert SchoolClass.objects.get(pk=r_oak.pk).name == "OLD CLASS"
    assert SchoolClass.objects.get(pk=old.pk).name == "Old Class"


# -- restoring leavers -----------------------------------------------------------------------------
def test_restore_an_archived_pupil(oak: SyncedSchool, admin: Client, leaver: Account) -> None:
    page = admin.get("/oak/manage/archived/")
    assert f'action="/oak/manage/archived/{leaver.pk}/restore/"'.encode() in page.content
    before = revision(oak.school)
    url = f"/oak/manage/archived/{leaver.pk}/restore/"
    assert admin.get(url).status_code == 405
    response = admin.post(url, {"back": "q=zz&page=1&evil=x"}, follow=True)
    assert response.redirect_chain == [("/oak/manage/archived/?q=zz&page=1", 302)]
    assert b"is active again, with the same username and password" in response.content
    assert b"the next sync will archive them again" in response.content  # a synced pupil
    restored = Account.objects.get(pk=leaver.pk)
    assert restored.status == "active"
    assert (restored.username, restored.credential) == (leaver.username, leaver.credential)
    assert revision(oak.school) == before + 1
    assert leaver.username not in usernames_in(admin.get("/oak/manage/archived/").content)
    assert leaver.username in usernames_in(admin.get("/oak/manage/", {"q": leaver.username}).content)
    again = admin.post(url, follow=True)
    assert b"is already active" in again.content and revision(oak.school) == before + 1


def test_archived_staff_are_listed_and_restored(oak: SyncedSchool, admin: Client) -> None:
    member = Account.objects.filter(school=oak.school, role="staff").exclude(pk=oak.teacher.pk).first()
    assert member is not None
    Account.objects.filter(pk=member.pk).update(status="archived")
    staff_only = admin.get("/oak/manage/archived/", {"role": "staff"})
    assert usernames_in(staff_only.content) == {member.username}
    assert usernames_in(admin.get("/oak/manage/archived/", {"role": "pupil"}).content) == set()
    assert member.username not in usernames_in(admin.get("/oak/manage/staff/").content)
    admin.post(f"/oak/manage/archived/{member.pk}/restore/")
    assert Account.objects.get(pk=member.pk).status == "active"


# -- the pupil login details link ------------------------------------------------------------------
def test_the_login_details_link_appears_once_its_page_exists(
    oak: SyncedSchool, admin: Client, settings: Any
) -> None:
    assert optional_url("no-such-page", "oak", 1) == ""
    exists = bool(optional_url("pupil-login", "oak", 1))
    page = admin.get("/oak/manage/")
    assert (b"Login details" in page.content) is exists
    settings.ROOT_URLCONF = __name__
    pupil = (
        Account.objects.filter(school=oak.school, role="pupil").order_by("surname", "forename", "id").first()
    )
    assert pupil is not None
    page = admin.get("/oak/manage/")
    link = reverse("pupil-login", args=["oak", pupil.pk])
    assert f'<a href="{link}">Login details'.encode() in page.content
    check_accessible(page.content)
    registered = pupil.registration_class_id
    assert (
        f'href="{reverse("pupil-login", args=["oak", pupil.pk])}"'.encode()
        in admin.get(f"/oak/manage/classes/{registered}/").content
    )


# -- the walls between schools ---------------------------------------------------------------------
def oak_urls(oak: SyncedSchool, leaver: Account) -> list[str]:
    some_class = SchoolClass.objects.filter(school=oak.school).first()
    assert some_class is not None
    return [
        *(f"/oak/manage/{tab}" for tab in TAB_URLS),
        "/oak/manage/add/",
        f"/oak/manage/classes/{some_class.pk}/",
        f"/oak/manage/classes/{some_class.pk}/rename/",
        f"/oak/manage/classes/{some_class.pk}/name/",
        f"/oak/manage/archived/{leaver.pk}/restore/",
    ]


def test_another_schools_admin_gets_404_everywhere(
    oak: SyncedSchool, elm: SyncedSchool, elm_admin: Client, leaver: Account
) -> None:
    before = revision(oak.school)
    for url in oak_urls(oak, leaver):
        assert elm_admin.get(url).status_code == 404, url
        assert elm_admin.get(url, HTTP_HX_REQUEST="true").status_code == 404, url
        assert elm_admin.post(url, {**GOOD_PUPIL, "name": "Hacked"}).status_code == 404, url
    assert revision(oak.school) == before
    assert Account.objects.get(pk=leaver.pk).status == "archived"
    assert not Account.objects.filter(surname="Exampleton").exists()
    # and nobody signed out sees anything either: they are sent to sign in
    for url in oak_urls(oak, leaver):
        assert Client().get(url).status_code == 302, url


def test_another_schools_ids_under_your_own_school_are_404(
    oak: SyncedSchool, elm: SyncedSchool, elm_admin: Client, leaver: Account
) -> None:
    oak_class = a_class(oak.school, "R Oak")
    for url in (
        f"/elm/manage/classes/{oak_class.pk}/",
        f"/elm/manage/classes/{oak_class.pk}/rename/",
        f"/elm/manage/classes/{oak_class.pk}/name/",
    ):
        assert elm_admin.get(url).status_code == 404, url
    assert elm_admin.post(f"/elm/manage/classes/{oak_class.pk}/rename/", {"name": "X"}).status_code == 404
    assert elm_admin.post(f"/elm/manage/archived/{leaver.pk}/restore/").status_code == 404
    assert SchoolClass.objects.get(pk=oak_class.pk).name == "R Oak"
    assert Account.objects.get(pk=leaver.pk).status == "archived"
    filtered = elm_admin.get("/elm/manage/", {"class": oak_class.pk})
    assert usernames_in(filtered.content) == set() and b"Choose a class or group" in filtered.content
    count = Account.objects.count()
    added = elm_admin.post("/elm/manage/add/", {**GOOD_PUPIL, "school_class": oak_class.pk, "new_class": ""})
    assert b"Choose a class from the list." in added.content and Account.objects.count() == count
