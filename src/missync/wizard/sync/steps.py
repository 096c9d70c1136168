"""The wizard's question steps: data source, usernames, passwords, year groups, subject groups."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from missync.accounts.models import School
from missync.accounts.services import read_roster
from missync.accounts.store import load_snapshot
from missync.core.passwords import PASSWORD_FORMATS, generate_password
from missync.core.plan import PersonKind
from missync.core.planning import build_plan
from missync.core.roster import Roster, SourceError
from missync.core.usernames import USERNAME_FORMATS, username_stem
from missync.core.years import map_year, suggest_year

from ..access import school_page
from ..models import SchoolMembership
from .common import next_or_back, page_context, read_state_roster, remember, wizard_inputs, wizard_state
from .forms import PasswordsForm, SubjectsForm, UploadForm, UsernamesForm, YearsForm, password_field_name
from .source_live import (
    LIVE_ACTION,
    SECRET_FIELDS,
    drop_pending_read,
    live_post,
    provider_label,
    reading,
    render_start,
)
from .state import (
    WizardState,
    forget_state,
    load_state,
    mis_year_names,
    remove_upload,
    save_state,
    save_upload,
    source_paths,
    subject_groups_in,
    year_groups_in,
)

EXAMPLE_PEOPLE = 3


# -- 0. data source ------------------------------------------------------------------------------------
@sensitive_post_parameters(*SECRET_FIELDS)  # a provider's secret never reaches an error report
@school_page(admin=True)
def sync_start(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """Upload an export, or read the school's MIS live through its data provider (`source_live`)."""
    state = load_state(request, school)
    if request.method == "POST" and LIVE_ACTION in request.POST:
        return live_post(request, school, membership, state)
    if request.method == "GET" and "reading" in request.GET:
        return reading(request, school, membership, state)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        source = save_upload(school, form.files_to_save())
        problem = _unreadable(school, source_paths(school, source))
        if problem:
            remove_upload(school, source)
            form.add_error("export", f"{problem} Nothing was changed.")
        else:
            if state is not None:
                remove_upload(school, state.source)
            save_state(request, school, WizardState.start(school, source))
            return redirect("sync-usernames", school.slug)
    form.link_errors()
    return render_start(request, school, membership, state, form=form)


def _unreadable(school: School, paths: list[Any]) -> str:
    """Why the uploaded files cannot be used, in the reader's words (with no server paths), or ""."""
    try:
        roster = read_roster(school, [str(path) for path in paths])
    except SourceError as error:
        message = str(error)
        for path in paths:
            message = message.replace(str(path.parent) + "/", "").replace(str(path.parent), "")
        return f"The file could not be read: {message}."
    if not roster.people:
        return "The file has no pupils or staff in it: check you exported the right report."
    return ""


@school_page(admin=True)
@require_POST
def cancel(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    state = load_state(request, school)
    forget_state(request, school)
    drop_pending_read(request, school)
    if state is not None and state.source.is_live:
        messages.success(
            request,
            "The wizard was cancelled: nothing was changed and the roster read from "
            f"{provider_label(state.source.kind)} was removed.",
        )
    else:
        messages.success(
            request, "The wizard was cancelled: nothing was changed and the uploaded file was removed."
        )
    return redirect("sync-start", school.slug)


# -- 1. usernames --------------------------------------------------------------------------------------
def _examples(roster: Roster, school: School, state: WizardState) -> dict[str, Any]:
    """A few of the school's own people to show each format on: new ones when there are any."""
    plan = build_plan(roster, load_snapshot(school), school.choices(**state.overrides(school, roster)))
    kinds: tuple[tuple[str, PersonKind], ...] = (("pupil", "new_pupils"), ("staff", "new_staff"))
    found: dict[str, Any] = {}
    for role, kind in kinds:
        new = [(change.after.forename, change.after.surname) for change in plan.people_of(kind)]
        everyone = [(p.forename, p.surname) for p in roster.people if p.role == role]
        found[role] = {
            "people": (new or everyone)[:EXAMPLE_PEOPLE],
            "new": bool(new),
            "count": len(new),
        }
    return found


def _format_options(form: UsernamesForm, field: str, role: str, people: list[tuple[str, str]]) -> list[Any]:
    chosen = form[field].value()
    return [
        {
            "value": fmt,
            "label": label,
            "id": f"id_{field}_{index}",
            "checked": fmt == chosen,
            "examples": [
                (f"{forename} {surname}".strip(), username_stem(fmt, forename, surname, fallback=role))
                for forename, surname in people
            ],
        }
        for index, (fmt, label) in enumerate(USERNAME_FORMATS.items())
    ]


@school_page(admin=True)
def usernames(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    state = wizard_state(request, school, "usernames")
    if isinstance(state, HttpResponse):
        return state
    initial = {
        "pupil_username_format": state.pupil_username_format,
        "staff_username_format": state.staff_username_format,
    }
    form = UsernamesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        state.pupil_username_format = form.cleaned_data["pupil_username_format"]
        state.staff_username_format = form.cleaned_data["staff_username_format"]
        state.reach("passwords")
        save_state(request, school, state)
        return next_or_back(request, school, "usernames")
    roster = read_state_roster(request, school, state)
    if isinstance(roster, HttpResponse):
        return roster
    examples = _examples(roster, school, state)
    groups = [
        {
            "field": field,
            "legend": form.fields[field].label,
            "role": role,
            "errors": form.errors.get(field, []),
            "options": _format_options(form, field, role, examples[role]["people"]),
            **examples[role],
        }
        for field, role in (("pupil_username_format", "pupil"), ("staff_username_format", "staff"))
    ]
    context = page_context(school, membership, state, "usernames", groups=groups, errors=form.error_list())
    return render(request, "missync/sync_usernames.html", context)


# -- 2. passwords --------------------------------------------------------------------------------------
@school_page(admin=True)
def passwords(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    found = wizard_inputs(request, school, "passwords")
    if isinstance(found, HttpResponse):
        return found
    state, roster = found
    year_map = state.year_map_for(school)
    years = year_groups_in(roster, year_map)
    initial = {password_field_name(y): state.password_format_for(school, y) for y in years}
    example_url = reverse("sync-password-example", args=[school.slug])
    form = PasswordsForm(years, example_url, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        state.password_formats.update(form.formats())
        state.reach("years")
        save_state(request, school, state)
        return next_or_back(request, school, "passwords")
    form.link_errors()
    pupils = {year: 0 for year in years}
    for person in roster.people:
        if person.role == "pupil" and person.year:
            year = map_year(person.year, year_map)
            if year in pupils:
                pupils[year] += 1
    rng = secrets.SystemRandom()
    rows = []
    for year in years:
        field = form[password_field_name(year)]
        chosen = field.value() if field.value() in PASSWORD_FORMATS else initial[field.name]
        rows.append(
            {"year": year, "field": field, "pupils": pupils[year], "example": generate_password(chosen, rng)}
        )
    unmapped = [name for name, _ in mis_year_names(roster) if map_year(name, year_map) is None]
    context = page_context(
        school, membership, state, "passwords", rows=rows, unmapped=unmapped, errors=form.error_list()
    )
    return render(request, "missync/sync_passwords.html", context)


@school_page(admin=True)
@require_GET
def password_example(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """A fresh example of one password format, for the passwords step's inline update (htmx)."""
    fmt = next(iter(request.GET.values()), "")
    if fmt not in PASSWORD_FORMATS:
        return HttpResponse("Unknown password format", status=400, content_type="text/plain")
    example = generate_password(fmt, secrets.SystemRandom())
    response = HttpResponse(format_html("e.g. <strong>{}</strong>", example))
    response["Cache-Control"] = "no-store"
    return response


# -- 3. year groups ------------------------------------------------------------------------------------
@school_page(admin=True)
def years(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    found = wizard_inputs(request, school, "years")
    if isinstance(found, HttpResponse):
        return found
    state, roster = found
    names = mis_year_names(roster)
    remembered = school.year_map or {}
    initial = {
        f"year-{i}": state.year_map.get(name) or map_year(name, remembered) or ""
        for i, (name, _) in enumerate(names)
    }
    form = YearsForm([name for name, _ in names], request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping()
        if mapping:
            remember(school, year_map=mapping)
        state.year_map.update(mapping)
        state.reach("subjects")
        save_state(request, school, state)
        return next_or_back(request, school, "years")
    form.link_errors()
    rows = []
    for index, (name, count) in enumerate(names):
        if name in state.year_map:
            how = "Your answer in this run"
        elif map_year(name, remembered) is None:
            how = "Not mapped yet: choose a year group"
        elif map_year(name, remembered) != suggest_year(name):
            how = "Remembered from an earlier sync"
        else:
            how = "Suggested from the name"
        rows.append({"name": name, "pupils": count, "field": form[f"year-{index}"], "how": how})
    context = page_context(school, membership, state, "years", rows=rows, errors=form.error_list())
    return render(request, "missync/sync_years.html", context)


# -- 4. subject groups ---------------------------------------------------------------------------------
@school_page(admin=True)
def subjects(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    found = wizard_inputs(request, school, "subjects")
    if isinstance(found, HttpResponse):
        return found
    state, roster = found
    groups = subject_groups_in(roster)
    names = [name for name, _, _ in groups]
    ticked = names if state.subject_groups is None else [n for n in names if n in state.subject_groups]
    form = SubjectsForm(names, request.POST or None, initial={"subject_groups": ticked})
    if request.method == "POST" and form.is_valid():
        if names:
            chosen = form.cleaned_data["subject_groups"]
            every = set(chosen) == set(names)
            state.subject_groups = None if every else sorted(chosen)
            remember(school, subject_groups=chosen, all_subject_groups=every)
        state.reach("summary")
        save_state(request, school, state)
        return next_or_back(request, school, "subjects")
    form.link_errors()
    chosen = set(form["subject_groups"].value() or [])
    rows = [
        {
            "name": name,
            "pupils": pupils,
            "staff": staff,
            "id": f"id_subject_groups_{i}",
            "checked": name in chosen,
        }
        for i, (name, pupils, staff) in enumerate(groups)
    ]
    field_errors = form.errors.get("subject_groups", [])
    context = page_context(
        school, membership, state, "subjects", rows=rows, field_errors=field_errors, errors=form.error_list()
    )
    return render(request, "missync/sync_subjects.html", context)
