"""What every wizard page shares: finding the run in progress, reading its roster, the step list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from missync.accounts.models import School
from missync.accounts.services import read_roster, update_settings
from missync.core.roster import Roster, SourceError

from ..models import SchoolMembership, SyncJob
from .state import (
    STEP_INDEX,
    STEPS,
    WizardState,
    forget_state,
    live_roster,
    load_state,
    roster_sources,
    save_state,
)

WIZARD_SECTION = "sync"


def step_list(school: School, state: WizardState | None, current: str) -> list[dict[str, Any]]:
    """The wizard's steps for the step list: a link for each step already reached, the current marked."""
    reached = state.reached if state is not None else 0
    items = []
    for index, step in enumerate(STEPS):
        is_current = step.slug == current
        url = None
        if step.url_name and index <= reached and not is_current and (state is not None or index == 0):
            url = reverse(step.url_name, args=[school.slug])
        items.append({"number": index, "title": step.title, "url": url, "current": is_current})
    return items


def page_context(
    school: School, membership: SchoolMembership, state: WizardState | None, current: str, **extra: Any
) -> dict[str, Any]:
    return {
        "school": school,
        "membership": membership,
        "section": WIZARD_SECTION,
        "state": state,
        "steps": step_list(school, state, current),
        "step_number": STEP_INDEX[current],
        "step_count": len(STEPS) - 1,
        **extra,
    }


def running_job(school: School, state: WizardState) -> SyncJob | None:
    """The job this run's Finish started, while it is still writing or has written."""
    if state.job is None:
        return None
    return SyncJob.objects.filter(pk=state.job, school=school).exclude(status="failed").first()


def wizard_state(request: HttpRequest, school: School, step: str) -> WizardState | HttpResponse:
    """The run in progress if `step` may be shown now; otherwise where to send the admin instead."""
    state = load_state(request, school)
    if state is None:
        messages.info(request, "Upload your MIS export to start the wizard.")
        return redirect("sync-start", school.slug)
    job = running_job(school, state)
    if job is not None:
        return redirect("sync-job", school.slug, job.pk)
    if state.job is not None:  # its job failed: the admin may go back and try again
        state.job = None
        save_state(request, school, state)
    if STEP_INDEX[step] > state.reached:
        step_to = STEPS[state.reached]
        messages.info(request, f"Answer the {step_to.title.lower()} step first.")
        return redirect(step_to.url_name or "sync-start", school.slug)
    return state


def wizard_inputs(
    request: HttpRequest, school: School, step: str
) -> tuple[WizardState, Roster] | HttpResponse:
    """The run in progress and its roster, for a step that needs both; else where to send the admin."""
    state = wizard_state(request, school, step)
    if isinstance(state, HttpResponse):
        return state
    roster = read_state_roster(request, school, state)
    if isinstance(roster, HttpResponse):
        return roster
    return state, roster


def read_state_roster(request: HttpRequest, school: School, state: WizardState) -> Roster | HttpResponse:
    """The uploaded export, read again (it was read once when uploaded, so this rarely fails); or the
    roster read live from the provider at the start of this run, as the admin has reviewed it."""
    if state.source.is_live:
        try:
            return live_roster(school, state.source)
        except ValueError:
            forget_state(request, school)
            messages.error(
                request, "The roster read from your MIS can no longer be used: read it again to continue."
            )
            return redirect("sync-start", school.slug)
    try:
        return read_roster(school, roster_sources(school, state.source))
    except SourceError as error:
        forget_state(request, school)
        messages.error(request, f"The uploaded file can no longer be read ({error}). Upload it again.")
        return redirect("sync-start", school.slug)


def remember(school: School, **choices: Any) -> None:
    """Save remembered choices on the school row, locked, so a sync applying meanwhile is never undone.

    (`update_settings` saves every field of the object it is given, revision included: given a stale
    object it would put back an older revision.)
    """
    with transaction.atomic():
        locked = School.objects.select_for_update().get(pk=school.pk)
        update_settings(locked, **choices)
    school.refresh_from_db()


def next_or_back(request: HttpRequest, school: School, step: str) -> HttpResponse:
    """After a step's answers are saved: the previous step for Back, else the next one."""
    index = STEP_INDEX[step] + (-1 if request.POST.get("go") == "back" else 1)
    return redirect(STEPS[index].url_name or "sync-summary", school.slug)
