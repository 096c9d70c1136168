"""The wizard at /<school>/manage/sync/ (one URL per step) and the history under history/."""

from django.urls import path

from . import views_sync

urlpatterns = [
    path("", views_sync.sync_start, name="sync-start"),
    path("usernames/", views_sync.usernames, name="sync-usernames"),
    path("passwords/", views_sync.passwords, name="sync-passwords"),
    path("passwords/example/", views_sync.password_example, name="sync-password-example"),
    path("year-groups/", views_sync.years, name="sync-years"),
    path("subject-groups/", views_sync.subjects, name="sync-subjects"),
    path("summary/", views_sync.summary, name="sync-summary"),
    path("cancel/", views_sync.cancel, name="sync-cancel"),
    path("jobs/<int:job_id>/", views_sync.job_page, name="sync-job"),
    path("jobs/<int:job_id>/progress/", views_sync.job_progress_fragment, name="sync-job-progress"),
    path("history/", views_sync.history, name="sync-history"),
    path("history/undo/", views_sync.undo_last, name="sync-undo-last"),
    path("history/<int:run_id>/", views_sync.run_page, name="sync-run"),
    path("history/<int:run_id>/report.csv", views_sync.run_report_csv, name="sync-run-report"),
    path("history/<int:run_id>/logins.csv", views_sync.run_logins, name="sync-run-logins"),
    path("history/<int:run_id>/undo/", views_sync.run_undo, name="sync-run-undo"),
]
