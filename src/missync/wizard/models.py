"""Who may use a school's pages, and background sync jobs.

A staff member's sign-in is a Django user whose username is `<school slug>/<email>`: each school has its
own sign-in page and its own users, so an account of one school can never sign in to another.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from missync.accounts.models import Account, School, SyncRun

ROLE_ADMIN, ROLE_TEACHER = "admin", "teacher"


def school_username(school: School, email: str) -> str:
    return f"{school.slug}/{email.strip().lower()}"


class SchoolMembership(models.Model):
    """A sign-in's role in one school; a teacher is linked to their staff account to find their classes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=10, choices=[(ROLE_ADMIN, "School admin"), (ROLE_TEACHER, "Teacher")])
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="logins"
    )

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


class SyncJob(models.Model):
    """A wizard's Finish, applied in the background so a large school never hangs the request."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="sync_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, default="queued")  # queued | running | done | failed
    step = models.CharField(max_length=100, blank=True, default="")
    done = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    message = models.TextField(blank=True, default="")  # for a failure: what went wrong, for the admin
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
