"""A school's own sign-in page, `/<school>/`: pupils (username, then password or picture PIN) and staff
(school email and password) on one page. The pupil steps live in `missync.credentials.signin`.

Both go through `django.contrib.auth.authenticate`, so django-axes limits failed sign-ins; the messages
are the same whether or not an account exists.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from missync.accounts.models import School
from missync.credentials.pupils import SESSION_KEY as PUPIL_SESSION_KEY
from missync.credentials.signin import locked_message, pupil_sign_in, render_stage

from .access import membership_is_current
from .models import school_username

STAFF_WRONG = "That email address and password do not match an account of this school."


class StaffSignInForm(forms.Form):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def _next_target(request: HttpRequest, school: School) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}) or not target.startswith(
        f"/{school.slug}/"
    ):
        return reverse("manage-home", args=[school.slug])
    return target


def sign_in(request: HttpRequest, school: str) -> HttpResponse:
    found = get_object_or_404(School, slug=school)
    is_staff_post = request.method == "POST" and "email" in request.POST
    initial = {"email": request.GET.get("email", "")}
    form = StaffSignInForm(request.POST if is_staff_post else None, initial=initial)
    context: dict[str, Any] = {"form": form, "error": "", "next": request.GET.get("next", "")}
    if request.method == "POST" and not is_staff_post:
        return pupil_sign_in(request, found, context)
    status = 200
    if is_staff_post and form.is_valid():
        user = authenticate(
            request,
            username=school_username(found, form.cleaned_data["email"]),
            password=form.cleaned_data["password"],
        )
        membership = getattr(user, "membership", None) if user is not None else None
        if membership is not None and membership_is_current(membership, found):
            login(request, user)
            request.session.pop(PUPIL_SESSION_KEY, None)  # a staff sign-in ends a pupil's on this browser
            return redirect(_next_target(request, found))
        if getattr(request, "axes_locked_out", False):
            context["error"], status = locked_message(staff=True), 429
        else:
            context["error"] = STAFF_WRONG
    context["next"] = request.POST.get("next", context["next"])
    return render_stage(request, found, "start", status=status, extra=context)


@require_POST
def sign_out(request: HttpRequest, school: str) -> HttpResponse:
    logout(request)
    return redirect("sign-in", school)
