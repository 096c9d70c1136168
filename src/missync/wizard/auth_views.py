"""A school's own sign-in page for staff (pupils' sign-in comes with login cards)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from missync.accounts.models import School

from .models import school_username


class StaffSignInForm(forms.Form):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def sign_in(request: HttpRequest, school: str) -> HttpResponse:
    found = get_object_or_404(School, slug=school)
    form = StaffSignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=school_username(found, form.cleaned_data["email"]),
            password=form.cleaned_data["password"],
        )
        if user is not None and getattr(user, "membership", None) and user.membership.school_id == found.pk:
            login(request, user)
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}) or not target.startswith(
                f"/{found.slug}/"
            ):
                target = reverse("manage-home", args=[found.slug])
            return redirect(target)
        error = "That email address and password do not match an account of this school."
    return render(
        request,
        "missync/sign_in.html",
        {"school": found, "form": form, "error": error, "next": request.GET.get("next", "")},
    )


@require_POST
def sign_out(request: HttpRequest, school: str) -> HttpResponse:
    logout(request)
    return redirect("sign-in", school)
