"""The MIS Sync Wizard and the sync history: the views live in `missync.wizard.sync`, by step."""

from __future__ import annotations

from .sync.history import history, run_page, run_report_csv, undo_last
from .sync.results import job_page, job_progress_fragment, run_logins, run_undo
from .sync.steps import cancel, password_example, passwords, subjects, sync_start, usernames, years
from .sync.summary import summary

__all__ = [
    "cancel",
    "history",
    "job_page",
    "job_progress_fragment",
    "password_example",
    "passwords",
    "run_logins",
    "run_page",
    "run_report_csv",
    "run_undo",
    "subjects",
    "summary",
    "sync_start",
    "undo_last",
    "usernames",
    "years",
]
