"""Manage Users: the school's pupils, staff, classes, groups and archived accounts.

Every view goes through `access.school_page`, and every id from a URL or a form is looked up within that
school (another school's id is a 404). Teachers see only their classes and groups and the pupils in
them, as `access.teacher_class_ids` decides; the Staff and Archived tabs and every change are for school
admins only. Lists are plain GET forms and pages; with htmx, a search or a page of results replaces just
the table (`#results`), and renaming a class happens in its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SchoolClass
from missync.accounts.services import InvalidInput

from . import manage_services as manage
from .access import school_page, teacher_class_ids
from .forms_manage import AddUserForm, ListFilterForm, RenameClassForm
from .models import SchoolMembership
from .templatetags.manage_tags import optional_url

ADDED_KEY = "manage-added-account"  # the session holds the new account's id, never its password


@dataclass(frozen=True)
class Tab:
    name: str  # URL name
    label: str
    count: int


def _tabs(school: School, class_ids: manage.ClassIds) -> list[Tab]:
    counts = manage.tab_counts(school, class_ids)
    tabs = [
        Tab("manage-home", "Pupils", counts.pupils),
        Tab("manage-staff", "Staff", counts.staff) if counts.staff is not None else None,
        Tab("manage-classes", "Classes", counts.classes),
        Tab("manage-groups", "Groups", counts.groups),
        Tab("manage-archived", "Archived", counts.archived) if counts.archived is not None else None,
    ]
    return [tab for tab in tabs if tab is not None]


def _base(school: School, membership: SchoolMembership, **extra: Any) -> dict[str, Any]:
    return {"school": school, "membership": membership, "section": "manage", **extra}


def _page(request: HttpRequest, rows: QuerySet[Any]) -> Page:
    return Paginator(rows, manage.PAGE_SIZE).get_page(request.GET.get("page"))


def _found(page: Page, form: ListFilterForm, singular: str, plural: str) -> str:
    """The line a screen reader hears after a search: how many matched."""
    if not form.is_valid():
        return "Nothing shown: correct the search."
    count = page.paginator.count
    noun = singular if count == 1 else plural
    if not count:
        return f"No {plural} match." if form.filtering else f"No {plural} yet."
    return f"{count} {noun} match." if form.filtering else f"{count} {noun}."


def _list(
    request: HttpRequest,
    school: School,
    membership: SchoolMembership,
    class_ids: manage.ClassIds,
    tab: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A tab's page, or with htmx (a search or another page) only its results, for `#results`."""
    context = _base(school, membership, tab=tab, **context)
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "results" and not htmx.history_restore_request:
        response = render(request, template, {**context, "oob": True})
    else:
        context["tabs"] = _tabs(school, class_ids)
        response = render(request, f"missync/manage_{tab}.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _filter_classes(school: School, class_ids: manage.ClassIds) -> list[SchoolClass]:
    return list(manage.visible_classes(school, class_ids).only("pk", "name", "kind"))


# -- the tabs ------------------------------------------------------------------------------------
@school_page()
def manage_home(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """The Pupils tab: the landing page of Manage Users."""
    class_ids = teacher_class_ids(membership)
    form = ListFilterForm(request.GET, classes=_filter_classes(school, class_ids), year=True)
    if form.is_valid():
        rows = manage.pupil_list(
            school, class_ids, text=form.value("q"), class_id=form.class_id(), year=form.value("year")
        )
    else:
        rows = Account.objects.none()
    page = _page(request, rows)
    context = {
        "form": form,
        "page": page,
        "found": _found(page, form, "pupil", "pupils"),
        "login_page": bool(optional_url("pupil-login", school.slug, 1)),
    }
    return _list(
        request, school, membership, class_ids, "home", "missync/manage_pupils_results.html", context
    )


@school_page(admin=True)
def staff(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    form = ListFilterForm(request.GET, classes=_filter_classes(school, None))
    rows = (
        manage.staff_list(school, text=form.value("q"), class_id=form.class_id())
        if form.is_valid()
        else Account.objects.none()
    )
    page = _page(request, rows)
    context = {"form": form, "page": page, "found": _found(page, form, "member of staff", "staff")}
    return _list(request, school, membership, None, "staff", "missync/manage_staff_results.html", context)


def _classes_tab(
    request: HttpRequest, school: School, membership: SchoolMembership, kind: str
) -> HttpResponse:
    class_ids = teacher_class_ids(membership)
    tab = "classes" if kind == manage.KIND_REGISTRATION else "groups"
    singular, plural = ("class", "classes") if tab == "classes" else ("group", "groups")
    form = ListFilterForm(request.GET, search_label=f"Search {plural} by name")
    rows = (
        manage.class_list(school, class_ids, kind, text=form.value("q"))
        if form.is_valid()
        else SchoolClass.objects.none()
    )
    page = _page(request, rows)
    context = {
        "form": form,
        "page": page,
        "rows": manage.class_rows(school, list(page.object_list)),
        "kind": kind,
        "found": _found(page, form, singular, plural),
        "can_rename": membership.is_admin,
    }
    return _list(request, school, membership, class_ids, tab, "missync/manage_classes_results.html", context)


@school_page()
def classes(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    return _classes_tab(request, school, membership, manage.KIND_REGISTRATION)


@school_page()
def groups(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    return _classes_tab(request, school, membership, manage.KIND_SUBJECT)


@school_page(admin=True)
def archived(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    form = ListFilterForm(request.GET, role=True)
    rows = (
        manage.archived_list(school, text=form.value("q"), role=form.value("role"))
        if form.is_valid()
        else Account.objects.none()
    )
    page = _page(request, rows)
    context = {"form": form, "page": page, "found": _found(page, form, "archived user", "archived users")}
    return _list(
        request, school, membership, None, "archived", "missync/manage_archived_results.html", context
    )


# -- one class -------------------------------------------------------------------------------------
def _class_or_404(school: School, class_ids: manage.ClassIds, class_id: int) -> SchoolClass:
    found = manage.find_class(school, class_ids, class_id)
    if found is None:
        raise Http404("No such class")
    return found


def _tab_of(school_class: SchoolClass) -> str:
    return "manage-classes" if school_class.kind == manage.KIND_REGISTRATION else "manage-groups"


@school_page()
def class_detail(
    request: HttpRequest, school: School, membership: SchoolMembership, class_id: int
) -> HttpResponse:
    school_class = _class_or_404(school, teacher_class_ids(membership), class_id)
    pupils, staff_members = manage.class_members(school, school_class)
    context = _base(
        school,
        membership,
        c=school_class,
        pupils=pupils,
        teachers=staff_members,
        back=_tab_of(school_class),
        login_page=bool(optional_url("pupil-login", school.slug, 1)),
    )
    return render(request, "missync/manage_class.html", context)


@school_page(admin=True)
@require_http_methods(["GET", "POST"])
def class_rename(
    request: HttpRequest, school: School, membership: SchoolMembership, class_id: int
) -> HttpResponse:
    """Rename a class: inline in its row with htmx, or on this page with a plain form."""
    school_class = _class_or_404(school, None, class_id)
    inline = bool(getattr(request, "htmx", False))
    context = _base(school, membership, c=school_class, inline=inline, value=school_class.name, error="")
    if request.method == "POST":
        form = RenameClassForm(request.POST)
        form.is_valid()  # one optional text field: always valid; the name is checked below
        name = form.cleaned_data.get("name", "")
        old_name = school_class.name
        try:
            changed = manage.rename_class(school, school_class, name)
        except InvalidInput as error:
            context.update(value=name, error=str(error))
        else:
            note = f"Renamed “{old_name}” to “{school_class.name}”." if changed else "Name unchanged."
            if not inline:
                messages.success(request, note)
                return redirect(_tab_of(school_class), school.slug)
            return _name_cell(request, school, membership, school_class, saved=note)
    if inline:
        response = render(request, "missync/manage_class_rename_form.html", context)
    else:
        context["back"] = _tab_of(school_class)
        response = render(request, "missync/manage_class_rename.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@school_page(admin=True)
def class_name(
    request: HttpRequest, school: School, membership: SchoolMembership, class_id: int
) -> HttpResponse:
    """A class's name cell as its row shows it: what Escape or Cancel puts back (htmx only)."""
    school_class = _class_or_404(school, None, class_id)
    if not getattr(request, "htmx", False):
        return redirect(_tab_of(school_class), school.slug)
    return _name_cell(request, school, membership, school_class)


def _name_cell(
    request: HttpRequest,
    school: School,
    membership: SchoolMembership,
    school_class: SchoolClass,
    saved: str = "",
) -> HttpResponse:
    # focus: the Rename button takes the focus back, so a keyboard user carries on where they were.
    context = _base(school, membership, c=school_class, can_rename=True, focus=True, saved=saved)
    response = render(request, "missync/manage_class_name.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# -- changes -------------------------------------------------------------------------------------
@school_page(admin=True)
@require_http_methods(["GET", "POST"])
def add_user(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """Add a pupil or member of staff by hand; the confirmation shows a pupil's password once."""
    if request.method == "POST":
        form = AddUserForm(request.POST, school=school)
        if form.is_valid():
            data = form.cleaned_data
            try:
                account, _password = manage.add_user_by_hand(
                    school,
                    forename=data["forename"],
                    surname=data["surname"],
                    role=data["role"],
                    school_class=data["school_class"],
                    new_class_name=data["new_class"],
                    year=data["year"],
                    email=data["email"],
                    dob=data["dob"],
                )
            except InvalidInput as error:
                form.add_error(None, str(error))
            else:
                request.session[ADDED_KEY] = account.pk
                return redirect("manage-add-user", school.slug)
    else:
        form = AddUserForm(school=school)
    added, password = None, None
    added_id = request.session.pop(ADDED_KEY, None) if request.method == "GET" else None
    if added_id is not None:
        added = (
            Account.objects.filter(school=school, pk=added_id).select_related("registration_class").first()
        )
        if added is not None and added.role == "pupil":
            password = decrypt_credential(added.credential)
    context = _base(school, membership, form=form, added=added, password=password)
    response = render(request, "missync/manage_add_user.html", context)
    if added is not None:
        response["Cache-Control"] = "no-store"  # the password must not stay in a cache
    return response


@school_page(admin=True)
@require_POST
def restore(
    request: HttpRequest, school: School, membership: SchoolMembership, account_id: int
) -> HttpResponse:
    account = get_object_or_404(Account, school=school, pk=account_id)
    if account.status != "archived":
        messages.info(request, f"{account.username} is already active.")
        return redirect("manage-archived", school.slug)
    manage.restore_account(school, account.pk)
    note = f"{account.forename} {account.surname} ({account.username}) is active again, with the same "
    note += "username and password."
    if account.source:
        note += " If they are still missing from the MIS, the next sync will archive them again."
    messages.success(request, note)
    return redirect(reverse("manage-archived", args=[school.slug]) + _keep_query(request))


def _keep_query(request: HttpRequest) -> str:
    """Back to the same search and page of the Archived tab after a restore (only its own parameters)."""
    previous = QueryDict(request.POST.get("back", ""))
    kept = {name: previous[name] for name in ("q", "role", "page") if previous.get(name)}
    return f"?{urlencode(kept)}" if kept else ""
