"""The sync history: every run, each run's per-line report (on a page and as CSV), undoing the last."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from missync.accounts.models import School, SyncRun
from missync.report import ROW_LABELS

from ..access import school_page
from ..models import SchoolMembership
from .results import counts, csv_response, last_applied_sync, new_pupils, undo_run
from .summary import summary_rows

HISTORY_SHOWN = 200
SECTION = "history"
REPORT_HEADER = (
    "Line",
    "Name or class",
    "Username",
    "Role or kind",
    "Year group",
    "Class",
    "Change",
    "How to fix",
)


def _brief(summary: dict[str, int]) -> list[str]:
    """The counts worth reading at a glance: every non-zero line but the unchanged."""
    return [
        f"{label}: {summary[key]}"
        for key, label in ROW_LABELS.items()
        if key != "unchanged" and summary.get(key)
    ]


@school_page(admin=True)
def history(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    runs = list(SyncRun.objects.filter(school=school).order_by("-id")[: HISTORY_SHOWN + 1])
    last = last_applied_sync(school)
    context: dict[str, Any] = {
        "school": school,
        "membership": membership,
        "section": SECTION,
        "runs": [{"run": run, "brief": _brief(run.summary or {})} for run in runs[:HISTORY_SHOWN]],
        "more": len(runs) > HISTORY_SHOWN,
        "last": last,
        "last_is_stale": last is not None and last.revision_after != school.revision,
    }
    return render(request, "missync/sync_history.html", context)


@school_page(admin=True)
def run_page(request: HttpRequest, school: School, membership: SchoolMembership, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_id, school=school)
    report = run.report or {}
    last = last_applied_sync(school)
    undone_by = SyncRun.objects.filter(school=school, kind="undo", undoes=run).order_by("-id").first()
    context: dict[str, Any] = {
        "school": school,
        "membership": membership,
        "section": SECTION,
        "run": run,
        "undoes": run.undoes if run.undoes is not None and run.undoes.school_id == school.pk else None,
        "undone_by": undone_by,
        "counts": counts(run.summary or {}),
        "rows": summary_rows(run.summary or {}, report.get("lines", {})) if run.kind == "sync" else [],
        "problems": report.get("problems", []),
        "hold_reasons": report.get("hold_reasons", []),
        "new_pupil_count": len(new_pupils(school, run))
        if run.kind == "sync" and run.status == "applied"
        else 0,
        "can_undo": last is not None and last.pk == run.pk,
    }
    return render(request, "missync/sync_run.html", context)


def report_rows(run: SyncRun) -> Iterator[tuple[object, ...]]:
    """Every line of a run's report, then the problems found reading its export."""
    lines = (run.report or {}).get("lines", {})
    for key, label in ROW_LABELS.items():
        for line in lines.get(key, []):
            if "class" in line:
                yield (label, line["class"], "", line.get("kind", ""), "", "", line.get("change", ""), "")
            elif key == "possible_duplicates":
                yield (
                    label,
                    line.get("name"),
                    line.get("account"),
                    line.get("role"),
                    "",
                    "",
                    line.get("change"),
                    "",
                )
            else:
                fixes = " ".join(line.get("fixes", []))
                yield (
                    label,
                    line.get("name"),
                    line.get("username", ""),
                    line.get("role", ""),
                    line.get("year_group") or "",
                    line.get("registration_group") or "",
                    line.get("change", ""),
                    fixes,
                )
    for problem in (run.report or {}).get("problems", []):
        where = " ".join(
            str(part)
            for part in (
                problem.get("file"),
                problem.get("row") and f"row {problem['row']}",
                problem.get("column"),
            )
            if part
        )
        yield (
            f"Problem in the export ({problem.get('severity', 'error')})",
            where,
            "",
            "",
            "",
            "",
            problem.get("message"),
            problem.get("fix"),
        )


@school_page(admin=True)
def run_report_csv(
    request: HttpRequest, school: School, membership: SchoolMembership, run_id: int
) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_id, school=school)
    return csv_response(f"{school.slug}-sync-{run.pk}-report.csv", REPORT_HEADER, report_rows(run))


@school_page(admin=True)
@require_POST
def undo_last(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    return undo_run(request, school, None)
