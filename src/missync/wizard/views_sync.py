"""The MIS Sync Wizard and the sync history."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from missync.accounts.models import School, SyncRun

from .access import school_page
from .models import SchoolMembership


@school_page(admin=True)
def sync_start(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    return render(
        request, "missync/sync_start.html", {"school": school, "membership": membership, "section": "sync"}
    )


@school_page(admin=True)
def history(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    runs = SyncRun.objects.filter(school=school).order_by("-id")
    return render(
        request,
        "missync/sync_history.html",
        {"school": school, "membership": membership, "section": "history", "runs": runs},
    )
