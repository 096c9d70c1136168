"""Who may see what: every school page goes through `school_page`, which finds the school by its slug
and refuses anyone who is not signed in to that very school (404: another school's pages do not exist
for them). Teachers reach only their own classes: `teacher_class_ids` is the one place that decides it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from missync.accounts.models import Account, Membership, School

from .models import ROLE_ADMIN, SchoolMembership

View = TypeVar("View", bound=Callable[..., HttpResponse])


def membership_of(request: HttpRequest, school: School) -> SchoolMembership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    membership = getattr(user, "membership", None)
    if membership is None or not membership_is_current(membership, school):
        return None
    return membership


def membership_is_current(membership: SchoolMembership, school: School) -> bool:
    """A sign-in works at its own school only, and not once its staff account has left (is archived)."""
    if membership.school_id != school.pk:
        return False
    return membership.account_id is None or membership.account.status == "active"


def school_page(*, admin: bool = False) -> Callable[[View], View]:
    """Decorate a view taking `(request, school, membership, ...)` from a URL with `<slug:school>`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, school: str, *args: Any, **kwargs: Any) -> HttpResponse:
            found = School.objects.filter(slug=school).first()
            if found is None:
                raise Http404("No such school")
            membership = membership_of(request, found)
            if membership is None:
                if request.user.is_authenticated:
                    raise Http404("No such page")  # signed in elsewhere: this school does not exist for them
                return redirect(f"{reverse('sign-in', args=[found.slug])}?next={request.path}")
            if admin and membership.role != ROLE_ADMIN:
                raise Http404("No such page")
            return view(request, found, membership, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def teacher_class_ids(membership: SchoolMembership) -> set[int] | None:
    """The class ids a sign-in may see: None means all (a school admin)."""
    if membership.role == ROLE_ADMIN:
        return None
    if membership.account_id is None:
        return set()
    account = Account.objects.filter(pk=membership.account_id, school_id=membership.school_id).first()
    if account is None:
        return set()
    ids = set(
        Membership.objects.filter(school_id=membership.school_id, account_id=account.pk).values_list(
            "school_class_id", flat=True
        )
    )
    if account.registration_class_id:
        ids.add(account.registration_class_id)
    return ids


def can_see_pupil(membership: SchoolMembership, pupil: Account) -> bool:
    """An admin sees every pupil of the school; a teacher those in the classes and groups they teach."""
    if pupil.school_id != membership.school_id:
        return False
    classes = teacher_class_ids(membership)
    if classes is None:
        return True
    if pupil.registration_class_id in classes:
        return True
    return Membership.objects.filter(account=pupil, school_class_id__in=classes).exists()
