"""Manage Users: the school's pupils, staff, classes, groups and archived accounts."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from missync.accounts.models import Account, School

from .access import school_page, teacher_class_ids
from .models import SchoolMembership


@school_page()
def manage_home(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    pupils = Account.objects.filter(school=school, role="pupil", status="active").select_related(
        "registration_class"
    )
    classes = teacher_class_ids(membership)
    if classes is not None:
        pupils = pupils.filter(
            Q(registration_class_id__in=classes) | Q(memberships__school_class_id__in=classes)
        ).distinct()
    return render(
        request,
        "missync/manage_home.html",
        {
            "school": school,
            "membership": membership,
            "section": "manage",
            "pupils": pupils.order_by("surname"),
        },
    )
