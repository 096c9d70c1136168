"""Applying a reviewed plan in the background, so a large school never hangs the wizard's request.

`start_job` records a `SyncJob` and runs `run_job` in a thread (or at once when the setting
`MISSYNC_SYNC_JOBS_INLINE` is True, as in tests). The apply is one transaction: on any failure the job
records a message for the admin and the school is untouched.

Progress during that transaction is kept in memory: the transaction's own writes (the job row included,
were it updated there) are invisible to the polling request until it commits. A poller in another
process sees the job's step without live numbers.
"""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from missync.accounts.apply import ApplyRefused, apply_plan
from missync.accounts.models import School
from missync.core.plan import Plan

from .models import SyncJob

logger = logging.getLogger(__name__)

_live: dict[int, tuple[str, int, int]] = {}
_live_lock = threading.Lock()
_running: set[int] = set()  # jobs whose thread belongs to this process

# A job still queued or running this long after it started, with no thread here, was left by a process
# that stopped mid-write (a restart): its transaction never committed.
STALE_AFTER = timedelta(minutes=30)
ABANDONED = (
    "Nothing was changed: the sync stopped before it finished (the server was restarted while it was "
    "writing). A sync is written all at once or not at all, so the school is exactly as it was. Go back "
    "to the summary and finish again."
)

FAILED_UNEXPECTEDLY = (
    "Nothing was changed: the sync stopped with an unexpected error ({kind}). A sync is written all at "
    "once or not at all, so the school is exactly as it was. Go back to the summary and finish again; "
    "if it fails again, tell your missync operator the time it happened."
)


def start_job(
    school: School,
    plan: Plan,
    *,
    user: Any = None,
    actor: str = "",
    source: str = "",
    confirm_hold: bool = False,
    cleanup: Path | None = None,
    base_url: str | None = None,
) -> SyncJob:
    """Record a job applying `plan` to `school` and start it; `cleanup` is a folder removed on success."""
    job = SyncJob.objects.create(
        school=school,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        total=len(plan.people),
        step="Waiting to start",
    )
    args = (job.pk, school.pk, plan, actor, source, confirm_hold, cleanup, base_url)
    with _live_lock:
        _running.add(job.pk)
    if getattr(settings, "MISSYNC_SYNC_JOBS_INLINE", False):
        run_job(*args)
    else:
        thread = threading.Thread(
            target=_thread_main, args=args, name=f"missync-sync-job-{job.pk}", daemon=True
        )
        transaction.on_commit(thread.start)  # the thread's own connection must see the job row
    job.refresh_from_db()
    return job


def _thread_main(*args: Any) -> None:
    try:
        run_job(*args)
    finally:
        connections.close_all()  # this thread's connections: never leave one open per finished job


def run_job(
    job_id: int,
    school_id: int,
    plan: Plan,
    actor: str,
    source: str,
    confirm_hold: bool,
    cleanup: Path | None,
    base_url: str | None = None,
) -> None:
    """Apply the plan, keeping the job's step, counts and status up to date. Never raises.

    Once written, new staff are sent their activation emails (links pointing at `base_url`)."""
    total = len(plan.people)

    def progress(step: str, done: int, of: int) -> None:
        with _live_lock:
            _live[job_id] = (step, done, of)

    try:
        school = School.objects.get(pk=school_id)
        SyncJob.objects.filter(pk=job_id, school_id=school_id).update(
            status="running", step="Writing the changes", done=0, total=total
        )
        run = apply_plan(
            school, plan, confirm_hold=confirm_hold, actor=actor, source=source, progress=progress
        )
    except ApplyRefused as error:
        _finish(job_id, "failed", message=f"Nothing was changed: {error}.")
    except Exception as error:  # the admin gets a clear message; the log gets no names or passwords
        logger.error("sync job %s failed with %s; nothing was written", job_id, type(error).__name__)
        _finish(job_id, "failed", message=FAILED_UNEXPECTEDLY.format(kind=type(error).__name__))
    else:
        _finish(job_id, "done", run=run, step="Finished", done=total)
        _send_activation_emails(job_id, school, run, base_url)
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)
    finally:
        with _live_lock:
            _live.pop(job_id, None)
            _running.discard(job_id)


def _send_activation_emails(job_id: int, school: School, run: Any, base_url: str | None) -> None:
    """New staff get their activation email; a mail failure never undoes a finished sync."""
    from missync.credentials.activation import send_activation_emails

    try:
        send_activation_emails(school, run, base=base_url, actor=run.actor or "sync")
    except Exception as error:  # logged without addresses; admins can resend from the staff page
        logger.error("sync job %s could not send activation emails (%s)", job_id, type(error).__name__)


def _finish(job_id: int, status: str, **values: Any) -> None:
    try:
        SyncJob.objects.filter(pk=job_id).update(status=status, **values)
    except Exception as error:  # the database itself failed: nothing more to record it in
        logger.error("sync job %s could not record its end (%s)", job_id, type(error).__name__)


def mark_if_abandoned(job: SyncJob) -> SyncJob:
    """Mark failed a job left unfinished by a process that has gone, so its page does not wait forever."""
    with _live_lock:
        here = job.pk in _running
    if job.status in ("queued", "running") and not here and job.created_at < timezone.now() - STALE_AFTER:
        SyncJob.objects.filter(pk=job.pk, status=job.status).update(status="failed", message=ABANDONED)
        job.refresh_from_db()
    return job


def job_progress(job: SyncJob) -> tuple[str, int, int]:
    """(step, done, total) of a job: live numbers while it writes in this process, else the job's row."""
    with _live_lock:
        live = _live.get(job.pk)
    return live or (job.step, job.done, job.total)
