"""Step 5, the summary: what the sync will do, line by line, with the admin's duplicate decisions and
the safety hold; and Finish, which re-plans, checks it is still what the admin saw, and applies it in
the background."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from missync.accounts.models import School
from missync.accounts.store import load_snapshot
from missync.core.passwords import PASSWORD_FORMATS
from missync.core.plan import Plan
from missync.core.planning import build_plan
from missync.core.roster import Roster
from missync.core.snapshot import DUPLICATE_DECISIONS
from missync.core.usernames import USERNAME_FORMATS
from missync.core.years import map_year
from missync.credentials.views_teacher import request_base
from missync.report import ROW_LABELS

from ..access import school_page
from ..jobs import start_job
from ..models import SchoolMembership
from .common import page_context, remember, wizard_inputs
from .state import WizardState, cleanup_folder, mis_year_names, save_state

LINES_SHOWN = 1000  # per summary row; the history's CSV report has them all
DUPLICATE_FIELD = "duplicate:"
DECISION_LABELS = {"link": "Same person", "new": "Different person", "skip": "Decide later"}


def plan_for(school: School, state: WizardState, roster: Roster) -> Plan:
    """The plan for this run's roster (as read for this page) with the admin's answers: what `preview`
    gives for the same source, without reading it again (a live source is read once per run)."""
    return build_plan(roster, load_snapshot(school), school.choices(**state.overrides(school, roster)))


def plan_digest(plan: Plan, choices: Any = None) -> str:
    """A fingerprint of everything the summary shows (the plan, and the `choices` recap shown with it),
    independent of the order lines come in."""
    document = plan.as_json()

    def canonical(items: list[Any]) -> list[str]:
        return sorted(json.dumps(item, sort_keys=True, default=str) for item in items)

    shown = {
        "summary": document["summary"],
        "held": document["held"],
        "hold_reasons": document["hold_reasons"],
        "lines": {key: canonical(lines) for key, lines in document["lines"].items()},
        "class_changes": canonical(document["class_changes"]),
        "problems": canonical(document["problems"]),
        "choices": json.dumps(choices, sort_keys=True, default=str),
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def summary_rows(
    summary: Mapping[str, int], lines: Mapping[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """One row per summary line, in the wizard's order, with the lines its `+` expands."""
    rows = []
    for key, label in ROW_LABELS.items():
        found = lines.get(key, [])
        rows.append(
            {
                "key": key,
                "label": label,
                "count": summary.get(key, 0),
                "lines": found[:LINES_SHOWN],
                "more": max(0, len(found) - LINES_SHOWN),
                "attention": key in ("possible_duplicates", "errors") and summary.get(key, 0) > 0,
            }
        )
    return rows


def _posted_decisions(post: Mapping[str, str], plan: Plan) -> tuple[dict[str, str], list[str]]:
    """The duplicate decisions in a post, checked against the plan's possible duplicates."""
    known = {dup.person_key for dup in plan.duplicates}
    decisions: dict[str, str] = {}
    errors: list[str] = []
    for name, value in post.items():
        if not name.startswith(DUPLICATE_FIELD):
            continue
        key = name[len(DUPLICATE_FIELD) :]
        if key not in known:
            errors.append(f"There is no possible duplicate “{key}” in this summary, so nothing was changed.")
        elif value not in DUPLICATE_DECISIONS:
            errors.append(
                f"“{value}” is not a decision: choose same person, different person or decide later."
            )
        else:
            decisions[key] = value
    return decisions, errors


@school_page(admin=True)
def summary(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    found = wizard_inputs(request, school, "summary")
    if isinstance(found, HttpResponse):
        return found
    state, roster = found
    year_map = state.year_map_for(school)
    unmapped = [name for name, _ in mis_year_names(roster) if map_year(name, year_map) is None]
    if unmapped:
        messages.error(
            request, "Map every MIS year name first: " + ", ".join(f"“{n}”" for n in unmapped) + "."
        )
        return redirect("sync-years", school.slug)
    plan = plan_for(school, state, roster)
    errors: list[str] = []
    hold_error = ""
    if request.method == "POST":
        decisions, errors = _posted_decisions(request.POST, plan)
        action = request.POST.get("action", "save")
        if not errors:
            if action == "resolve-all":
                decisions = {dup.person_key: "link" for dup in plan.duplicates}
            changed = any(state.duplicates.get(key, "skip") != value for key, value in decisions.items())
            state.duplicates.update(decisions)
            save_state(request, school, state)
            if action != "finish":
                if action == "resolve-all":
                    messages.success(request, "All possible duplicates are marked as the same person.")
                else:
                    messages.success(request, "Your decisions are saved: the summary below includes them.")
                return redirect("sync-summary", school.slug)
            if changed:
                messages.info(
                    request,
                    "You changed duplicate decisions: they are saved and the summary below now includes "
                    "them. Check it, then finish again.",
                )
                return redirect("sync-summary", school.slug)
            plan = plan_for(school, state, roster)
            if plan_digest(plan, _choices_recap(school, state, roster)) != request.POST.get("plan_digest"):
                messages.error(
                    request,
                    "Nothing was written: the summary changed since you looked at it (another sync or a "
                    "change in Manage Users, for example). Check the new summary below, then finish again.",
                )
                return redirect("sync-summary", school.slug)
            if plan.held and request.POST.get("confirm_hold") != "yes":
                hold_error = (
                    "Tick the box to confirm you have checked the summary, or go back and fix the export."
                )
            else:
                return _finish(request, school, state, roster, plan)
    context = page_context(
        school,
        membership,
        state,
        "summary",
        plan=plan,
        digest=plan_digest(plan, _choices_recap(school, state, roster)),
        rows=summary_rows(plan.summary(), plan.lines()),
        duplicates=_duplicate_rows(plan),
        undecided=sum(1 for dup in plan.duplicates if dup.decision == "skip"),
        export_problems=[p for p in plan.problems if not p.person],
        choices=_choices_recap(school, state, roster),
        errors=[("", e) for e in errors] + ([("confirm_hold", hold_error)] if hold_error else []),
        hold_error=hold_error,
        source=state.source,
    )
    return render(request, "missync/sync_summary.html", context, status=400 if errors else 200)


def _duplicate_rows(plan: Plan) -> list[dict[str, Any]]:
    effects = [line["change"] for line in plan.lines()["possible_duplicates"]]  # in plan.duplicates' order
    return [
        {
            "index": index,
            "field": DUPLICATE_FIELD + dup.person_key,
            "name": dup.name,
            "role": dup.role,
            "account": dup.account_username,
            "account_name": dup.account_name,
            "effect": effects[index],
            "options": [
                {"value": value, "label": label, "checked": dup.decision == value}
                for value, label in DECISION_LABELS.items()
            ],
        }
        for index, dup in enumerate(plan.duplicates)
    ]


def _choices_recap(school: School, state: WizardState, roster: Roster) -> dict[str, Any]:
    formats = state.overrides(school, roster)["password_formats"]
    return {
        "pupil_usernames": USERNAME_FORMATS.get(state.pupil_username_format, state.pupil_username_format),
        "staff_usernames": USERNAME_FORMATS.get(state.staff_username_format, state.staff_username_format),
        "passwords": [(year, PASSWORD_FORMATS.get(fmt, fmt)) for year, fmt in formats.items()],
        "subject_groups": state.subject_groups,
    }


def _finish(
    request: HttpRequest, school: School, state: WizardState, roster: Roster, plan: Plan
) -> HttpResponse:
    """Remember the formats and write the plan in the background; the job page shows its progress."""
    overrides = state.overrides(school, roster)
    remember(
        school,
        pupil_usernames=state.pupil_username_format,
        staff_usernames=state.staff_username_format,
        passwords=overrides["password_formats"],
    )
    job = start_job(
        school,
        plan,
        user=request.user,
        actor=getattr(request.user, "email", ""),
        source=state.source.describe(),
        confirm_hold=plan.held,
        cleanup=cleanup_folder(school, state.source),
        base_url=request_base(request),
    )
    state.job = job.pk
    state.reach("finish")
    save_state(request, school, state)
    return redirect("sync-job", school.slug, job.pk)
