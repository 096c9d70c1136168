"""Staff activation pages: the admin's list with (re)send buttons, and the link a new member of staff opens.

The link `/<school>/activate/<uid>/<token>/` is checked, then its token moves into the session and the
browser is sent to a URL without it (as Django's password reset does), so the token never leaks through
the Referer header of the set-password page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from missync.accounts.models import Account, School
from missync.accounts.services import InvalidInput
from missync.wizard.access import school_page
from missync.wizard.models import SchoolMembership

from .activation import (
    activate,
    activation_tokens,
    email_destination,
    has_sign_in,
    send_activation,
    staff_from_uid,
)
from .forms import SetPasswordForm
from .models import StaffActivation
from .views_teacher import actor_of, request_base

SESSION_TOKEN = "missync_activation_token"
SET_PASSWORD = "set-password"


@school_page(admin=True)
def staff_activation(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """Every member of staff: can they sign in, were they sent an activation email; (re)send it."""
    staff = list(
        Account.objects.filter(school=school, role="staff", status="active").order_by(
            "surname", "forename", "id"
        )
    )
    sent = {a.pk: a for a in StaffActivation.objects.filter(account__in=staff)}
    signed_in = set(
        SchoolMembership.objects.filter(school=school, account__in=staff).values_list("account_id", flat=True)
    )
    rows = [
        {
            "account": account,
            "can_sign_in": account.pk in signed_in or (bool(account.email) and has_sign_in(account)),
            "activation": sent.get(account.pk),
        }
        for account in staff
    ]
    return render(
        request,
        "missync/credentials/staff_activation.html",
        {"school": school, "membership": membership, "section": "activation", "rows": rows},
    )


@require_POST
@school_page(admin=True)
def send_activation_view(
    request: HttpRequest, school: School, membership: SchoolMembership, account: int
) -> HttpResponse:
    staff = (
        Account.objects.filter(pk=account, school=school, role="staff", status="active")
        .select_related("school")
        .first()
    )
    if staff is None:
        raise Http404("No such member of staff")
    if send_activation(staff, actor=actor_of(request), base=request_base(request)):
        messages.success(request, f"Activation email sent to {staff.email} ({email_destination()}).")
    else:
        messages.error(
            request, "No activation email was sent: they need an email address and no sign-in yet."
        )
    return redirect("staff-activation", school.slug)


def _invalid(request: HttpRequest, school: School) -> HttpResponse:
    return render(request, "missync/credentials/activation_invalid.html", {"school": school}, status=400)


@never_cache
def activate_link(request: HttpRequest, school: str, uidb64: str, token: str) -> HttpResponse:
    """The emailed link: check it, keep its token in the session, and continue without it in the URL."""
    found = get_object_or_404(School, slug=school)
    account = staff_from_uid(found, uidb64)
    if account is None or not activation_tokens.check_token(account, token):
        return _invalid(request, found)
    request.session[SESSION_TOKEN] = {"uid": uidb64, "token": token}
    return redirect(reverse("activate", args=[found.slug, uidb64, SET_PASSWORD]))


@never_cache
def activate_set_password(request: HttpRequest, school: str, uidb64: str) -> HttpResponse:
    """Choose a password; that creates the teacher's sign-in, and the link stops working."""
    found = get_object_or_404(School, slug=school)
    kept = request.session.get(SESSION_TOKEN) or {}
    account = staff_from_uid(found, uidb64)
    if (
        account is None
        or kept.get("uid") != uidb64
        or not activation_tokens.check_token(account, kept.get("token"))
    ):
        return _invalid(request, found)
    form = SetPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            activate(account, form.cleaned_data["password1"])
        except InvalidInput:
            return _invalid(request, found)
        request.session.pop(SESSION_TOKEN, None)
        messages.success(
            request, "Your password is set. Sign in with your email address and your new password."
        )
        return redirect(f"{reverse('sign-in', args=[found.slug])}?{urlencode({'email': account.email})}")
    return render(
        request, "missync/credentials/activate.html", {"school": found, "account": account, "form": form}
    )


def activate_view(request: HttpRequest, school: str, uidb64: str, token: str) -> HttpResponse:
    """One URL pattern for both steps: the token itself, or `set-password` once it is in the session."""
    if token == SET_PASSWORD:
        return activate_set_password(request, school, uidb64)
    return activate_link(request, school, uidb64, token)
