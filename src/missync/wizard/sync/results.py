"""After Finish: the job's progress page, the result page, new pupils' login details, undoing a run."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from missync.accounts.apply import ApplyRefused, undo_last_run
from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SyncRun
from missync.report import ROW_LABELS

from ..access import school_page
from ..jobs import job_progress, mark_if_abandoned
from ..models import SchoolMembership, SyncJob
from .common import page_context
from .state import forget_state, load_state

RESULT_EXTRA_TEMPLATE = "missync/sync_result_extra.html"  # login cards add themselves here when present
FINISHED = ("done", "failed")


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def last_applied_sync(school: School) -> SyncRun | None:
    return SyncRun.objects.filter(school=school, kind="sync", status="applied").order_by("-id").first()


def counts(summary: dict[str, int]) -> list[tuple[str, int]]:
    return [(label, summary.get(key, 0)) for key, label in ROW_LABELS.items()]


def new_pupils(school: School, run: SyncRun) -> list[Account]:
    """The pupil accounts this run created (still there: an undone run's are gone)."""
    created = [
        pk
        for pk, before in run.changes.filter(entity="account").values_list("object_id", "before")
        if before is None
    ]
    accounts = Account.objects.filter(school=school, pk__in=created, role="pupil").select_related(
        "registration_class"
    )
    return sorted(
        accounts,
        key=lambda a: (
            a.registration_class.name if a.registration_class else "",
            a.surname,
            a.forename,
            a.pk,
        ),
    )


@school_page(admin=True)
def job_page(request: HttpRequest, school: School, membership: SchoolMembership, job_id: int) -> HttpResponse:
    job = mark_if_abandoned(get_object_or_404(SyncJob, pk=job_id, school=school))
    state = load_state(request, school)
    if job.status not in FINISHED:
        step, done, total = job_progress(job)
        context = page_context(
            school, membership, state, "finish", job=job, step=step, done=done, total=total
        )
        return render(request, "missync/sync_progress.html", context)
    if job.status == "done" and (state is None or state.job == job.pk):
        forget_state(request, school)  # the run is written: its answers and uploads are finished with
        state = None
    run = job.run if job.run is not None and job.run.school_id == school.pk else None
    context = page_context(
        school,
        membership,
        state,
        "finish",
        job=job,
        run=run,
        counts=counts(run.summary) if run else [],
        new_pupil_count=len(new_pupils(school, run)) if run else 0,
        can_undo=run is not None and run == last_applied_sync(school),
        run_undo_url=reverse("sync-run-undo", args=[school.slug, run.pk]) if run else "",
        can_go_back=state is not None,
        result_extra_template=RESULT_EXTRA_TEMPLATE if _template_exists(RESULT_EXTRA_TEMPLATE) else None,
    )
    return render(request, "missync/sync_result.html", context)


@school_page(admin=True)
def job_progress_fragment(
    request: HttpRequest, school: School, membership: SchoolMembership, job_id: int
) -> HttpResponse:
    """The progress text the job page polls (htmx); when the job ends, the page loads the result."""
    job = mark_if_abandoned(get_object_or_404(SyncJob, pk=job_id, school=school))
    url = reverse("sync-job", args=[school.slug, job.pk])
    if job.status in FINISHED:
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    step, done, total = job_progress(job)
    response = render(
        request, "missync/sync_part_progress.html", {"job": job, "step": step, "done": done, "total": total}
    )
    response["Cache-Control"] = "no-store"
    return response


def _safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (names come from outside)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_safe_cell(value) for value in row] for row in rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@school_page(admin=True)
def run_logins(
    request: HttpRequest, school: School, membership: SchoolMembership, run_id: int
) -> HttpResponse:
    """New pupils' login details as CSV (name, class, username, password): admin only, never cached."""
    run = get_object_or_404(SyncRun, pk=run_id, school=school, kind="sync")
    rows = (
        (
            f"{a.forename} {a.surname}",
            a.registration_class.name if a.registration_class else "",
            a.username,
            decrypt_credential(a.credential) or "",
        )
        for a in new_pupils(school, run)
    )
    return csv_response(
        f"{school.slug}-sync-{run.pk}-new-pupils-logins.csv", ("Name", "Class", "Username", "Password"), rows
    )


def undo_run(request: HttpRequest, school: School, run: SyncRun | None) -> HttpResponse:
    """Undo the school's last applied sync (`run`, when given, must be it). Messages say what happened."""
    target = (
        reverse("sync-run", args=[school.slug, run.pk])
        if run
        else reverse("sync-history", args=[school.slug])
    )
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Nothing was undone: tick the box to confirm you want to undo the sync.")
        return redirect(target)
    actor = getattr(request.user, "email", "")
    try:
        with transaction.atomic():
            School.objects.select_for_update().get(pk=school.pk)  # nothing applies between check and undo
            last = last_applied_sync(school)
            if run is not None and (last is None or last.pk != run.pk):
                if run.status == "undone":
                    why = "it has already been undone"
                elif last is not None and last.pk > run.pk:
                    why = f"only the last sync can be undone, and sync #{last.pk} came after it"
                else:
                    why = "only the last sync can be undone"
                messages.error(request, f"Sync #{run.pk} was not undone: {why}.")
                return redirect(target)
            undo = undo_last_run(school, actor=actor)
    except ApplyRefused as error:
        messages.error(request, f"Nothing was undone: {error}.")
        return redirect(target)
    undone = undo.undoes
    messages.success(
        request, f"Sync #{undone.pk if undone else ''} was undone: the school is exactly as it was before it."
    )
    return redirect(reverse("sync-run", args=[school.slug, undone.pk]) if undone else target)


@school_page(admin=True)
@require_POST
def run_undo(request: HttpRequest, school: School, membership: SchoolMembership, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_id, school=school, kind="sync")
    return undo_run(request, school, run)
