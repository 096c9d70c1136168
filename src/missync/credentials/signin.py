"""Pupils' sign-in on the school's page, in two steps that work as plain form posts (no JavaScript needed):
the username, then a password box or, for picture-PIN pupils, a pad of ten animals to tap or type.

An unknown username gets a password box or a picture pad as a real pupil might (the same one every
time), and a wrong password and an unknown username get the same words on the same page, so the page
never tells whether a username exists. Sign-ins go through
`authenticate` (see `backends`), so django-axes counts failures and locks out. A QR code from a login card
signs its pupil in directly, until their credentials are changed.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from missync.accounts.models import School
from missync.core.passwords import PICTURE_PIN_ANIMALS

from .lockout import PUPIL_PASSWORD, PUPIL_SCHOOL, PUPIL_USERNAME
from .pupils import (
    decoy_pin_length,
    end_pupil_session,
    find_pupil,
    picture_pin_length,
    pupil_from_qr,
    signed_in_pupil,
    start_pupil_session,
)

TEMPLATE = "missync/sign_in.html"
WRONG = "That username and password do not match. Check your login card and try again, or ask your teacher."
NO_USERNAME = "Type your username first."
NO_PASSWORD = "Type your password, or tap your pictures."


def locked_message(*, staff: bool = False) -> str:
    """What a locked-out sign-in is told (the same for every username, known or not)."""
    cool_off = get_cool_off()
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    if staff:
        return (
            f"Too many failed sign-ins. Try again in {minutes} minutes."
            if minutes
            else "Too many failed sign-ins."
        )
    wait = f", or wait {minutes} minutes and try again" if minutes else ""
    return f"Too many wrong tries. Ask your teacher to unlock your sign-in{wait}."


def picture_pad() -> list[dict[str, Any]]:
    """The ten keys of the picture pad: digit, animal and picture, in the order of the digits."""
    return [
        {"digit": str(digit), "animal": animal, "image": f"missync/animals/{animal.lower()}.svg"}
        for digit, animal in enumerate(PICTURE_PIN_ANIMALS)
    ]


def render_stage(
    request: HttpRequest,
    school: School,
    stage: str,
    *,
    username: str = "",
    pin_length: int | None = None,
    entered: str = "",
    pupil_error: str = "",
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page at one pupil stage: start (username and the staff form), password, or picture."""
    context: dict[str, Any] = {
        "school": school,
        "stage": stage,
        "username": username,
        "pin_length": pin_length or 0,
        "entered": entered,
        "slots": [index < len(entered) for index in range(pin_length or 0)],
        "pad": picture_pad() if stage == "picture" else [],
        "pupil_error": pupil_error,
        **(extra or {}),
    }
    response = render(request, TEMPLATE, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def pupil_sign_in(request: HttpRequest, school: School, staff_context: dict[str, Any]) -> HttpResponse:
    """Handle a post from the pupil part of the sign-in page (`stage`: username, password or picture)."""
    stage = request.POST.get("stage", "username")
    username = request.POST.get("username", "").strip()[:60]
    if not username:
        return render_stage(request, school, "start", pupil_error=NO_USERNAME, extra=staff_context)
    pupil = find_pupil(school, username)
    pin_length = picture_pin_length(pupil) if pupil is not None else decoy_pin_length(school, username)
    kind = "picture" if pin_length else "password"
    if stage == "username":
        return render_stage(request, school, kind, username=username, pin_length=pin_length)

    if stage == "picture":
        entered = "".join(ch for ch in request.POST.get("pin", "") if ch.isdigit())
        if "clear" in request.POST:
            return render_stage(request, school, kind, username=username, pin_length=pin_length)
        digit = request.POST.get("digit", "")
        if pin_length and digit.isdigit() and len(digit) == 1:
            entered = (entered + digit)[:pin_length]
            if len(entered) < pin_length:  # a tap without JavaScript: show the pad again, one more filled
                return render_stage(
                    request, school, kind, username=username, pin_length=pin_length, entered=entered
                )
        secret = entered
    else:
        secret = request.POST.get("password", "")
    if not secret.strip():
        return render_stage(
            request, school, kind, username=username, pin_length=pin_length, pupil_error=NO_PASSWORD
        )

    pupil = authenticate(request, **{PUPIL_SCHOOL: school, PUPIL_USERNAME: username, PUPIL_PASSWORD: secret})
    if pupil is not None:
        start_pupil_session(request, pupil)
        return redirect("pupil-home", school.slug)
    locked = bool(getattr(request, "axes_locked_out", False))
    return render_stage(
        request,
        school,
        kind,
        username=username,
        pin_length=pin_length,
        pupil_error=locked_message() if locked else WRONG,
        status=429 if locked else 200,
    )


@never_cache
def pupil_home(request: HttpRequest, school: str) -> HttpResponse:
    """Where a signed-in pupil lands: their name and class, proving the account works."""
    found = get_object_or_404(School, slug=school)
    pupil = signed_in_pupil(request, found)
    if pupil is None:
        return redirect("sign-in", found.slug)
    return render(request, "missync/credentials/pupil_home.html", {"school": found, "pupil": pupil})


@require_POST
def pupil_sign_out(request: HttpRequest, school: str) -> HttpResponse:
    found = get_object_or_404(School, slug=school)
    end_pupil_session(request)
    return redirect("sign-in", found.slug)


@never_cache
def qr_sign_in(request: HttpRequest, school: str, token: str) -> HttpResponse:
    """A login card's QR code: signs its pupil in, unless the card was replaced (then says so)."""
    found = get_object_or_404(School, slug=school)
    pupil = pupil_from_qr(found, token)
    if pupil is None:
        return render(request, "missync/credentials/qr_invalid.html", {"school": found}, status=400)
    start_pupil_session(request, pupil)
    return redirect("pupil-home", found.slug)
