"""Teachers' and admins' credential pages in Manage Users: login cards, a pupil's login, new passwords,
lockouts and the school's credential history.

A teacher reaches only the pupils and classes they teach (`missync.wizard.access`); anything else is 404.
Pages and PDFs that show credentials are never cached.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SchoolClass, SyncRun
from missync.core.passwords import PASSWORD_FORMATS, PICTURE_PIN_ANIMALS
from missync.wizard.access import can_see_pupil, school_page, teacher_class_ids
from missync.wizard.models import SchoolMembership

from .changes import change_class_passwords, pupils_of_class, record_event, reset_password, year_format
from .forms import ClassPasswordsForm, ResetPasswordForm
from .lockout import clear_pupil_lockout, is_pupil_locked, pupil_attempt_key, recent_failures
from .models import CredentialEvent
from .printing import CardsPdf, cards_for_class, cards_for_pupils, cards_pdf_for_run, configured_base_url

REVEAL_KEY = "missync_reveal_pupil"


def actor_of(request: HttpRequest) -> str:
    return str(getattr(request.user, "email", "") or request.user.get_username())


def request_base(request: HttpRequest) -> str:
    """The site's address for cards and emails: MISSYNC_BASE_URL if set, else this page's own."""
    return configured_base_url() or request.build_absolute_uri("/").rstrip("/")


def visible_pupils(school: School, membership: SchoolMembership) -> QuerySet[Account]:
    pupils = Account.objects.filter(school=school, role="pupil", status="active")
    classes = teacher_class_ids(membership)
    if classes is not None:
        pupils = pupils.filter(
            Q(registration_class_id__in=classes) | Q(memberships__school_class_id__in=classes)
        ).distinct()
    return pupils.select_related("registration_class").order_by(
        "registration_class__name", "surname", "forename", "id"
    )


def visible_classes(school: School, membership: SchoolMembership, kind: str) -> QuerySet[SchoolClass]:
    found = SchoolClass.objects.filter(school=school, kind=kind, status="active").order_by("name")
    classes = teacher_class_ids(membership)
    return found if classes is None else found.filter(pk__in=classes)


def pupil_or_404(school: School, membership: SchoolMembership, pk: int) -> Account:
    pupil = (
        Account.objects.filter(pk=pk, school=school, role="pupil", status="active")
        .select_related("registration_class", "school")
        .first()
    )
    if pupil is None or not can_see_pupil(membership, pupil):
        raise Http404("No such pupil")
    return pupil


def class_or_404(school: School, membership: SchoolMembership, pk: int | str | None) -> SchoolClass:
    if not str(pk or "").isdigit():
        raise Http404("No such class")
    found = (
        SchoolClass.objects.filter(pk=int(str(pk)), school=school, status="active")
        .select_related("school")
        .first()
    )
    classes = teacher_class_ids(membership)
    if found is None or (classes is not None and found.pk not in classes):
        raise Http404("No such class")
    return found


def pdf_response(pdf: CardsPdf) -> HttpResponse:
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _page(
    request: HttpRequest, template: str, school: School, membership: SchoolMembership, **context: Any
) -> HttpResponse:
    response = render(
        request, template, {"school": school, "membership": membership, "section": "manage", **context}
    )
    response["Cache-Control"] = "no-store"
    return response


@school_page()
def cards_page(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """Choose a class, a subject group or pupils, and download their login cards as a PDF."""
    if request.method == "POST":
        qr = request.POST.get("qr") == "1"
        kind = request.POST.get("kind")
        if kind in ("class", "group"):
            school_class = class_or_404(school, membership, request.POST.get("school_class"))
            pdf = cards_for_class(
                school_class, base=request_base(request), qr=qr, staff=request.POST.get("staff") == "1"
            )
            record_event(
                school, actor_of(request), "printed", school_class=school_class, detail=f"{pdf.cards} cards"
            )
            return pdf_response(pdf)
        if kind == "pupils":
            ids = [int(v) for v in request.POST.getlist("pupils") if v.isdigit()]
            pupils = list(visible_pupils(school, membership).filter(pk__in=ids))
            if pupils:
                pdf = cards_for_pupils(school, pupils, base=request_base(request), qr=qr)
                record_event(
                    school, actor_of(request), "printed", detail=f"{pdf.cards} cards for chosen pupils"
                )
                return pdf_response(pdf)
            messages.error(request, "Tick at least one pupil to print their cards.")
    return _page(
        request,
        "missync/credentials/cards.html",
        school,
        membership,
        classes=visible_classes(school, membership, "registration"),
        groups=visible_classes(school, membership, "subject"),
        pupils=visible_pupils(school, membership),
        section="cards",
    )


@school_page(admin=True)
def cards_run(request: HttpRequest, school: School, membership: SchoolMembership, run: int) -> HttpResponse:
    """The login cards of a sync run's new users (linked from the wizard's result page)."""
    found = SyncRun.objects.filter(pk=run, school=school).first()
    if found is None:
        raise Http404("No such sync")
    pdf = cards_pdf_for_run(found, base=request_base(request), qr=request.GET.get("qr", "1") != "0")
    record_event(school, actor_of(request), "printed", detail=f"{pdf.cards} cards for sync #{found.pk}")
    return pdf_response(pdf)


def _pin_pictures(secret: str | None) -> list[dict[str, str]]:
    if not secret or not secret.isdigit():
        return []
    return [
        {
            "digit": ch,
            "animal": PICTURE_PIN_ANIMALS[int(ch)],
            "image": f"missync/animals/{PICTURE_PIN_ANIMALS[int(ch)].lower()}.svg",
        }
        for ch in secret
    ]


@never_cache
@school_page()
def pupil_login(
    request: HttpRequest, school: School, membership: SchoolMembership, account: int
) -> HttpResponse:
    """A pupil's login: username, the password on request (recorded), card, reset and lockout."""
    pupil = pupil_or_404(school, membership, account)
    revealed = request.session.pop(REVEAL_KEY, None) == pupil.pk
    if request.method == "POST" and request.POST.get("action") == "show":
        record_event(school, actor_of(request), "viewed", account=pupil)
        revealed = True
    secret = decrypt_credential(pupil.credential) if revealed else None
    events = CredentialEvent.objects.filter(school=school, account=pupil)[:10]
    return _page(
        request,
        "missync/credentials/pupil_login.html",
        school,
        membership,
        pupil=pupil,
        revealed=revealed,
        secret=secret,
        pin_pictures=_pin_pictures(secret),
        locked=is_pupil_locked(pupil),
        failures=recent_failures(pupil_attempt_key(school, pupil.username)),
        reset_form=ResetPasswordForm(initial={"format": year_format(pupil)}),
        year_format=PASSWORD_FORMATS.get(year_format(pupil), ""),
        events=events,
    )


@require_POST
@school_page()
def pupil_card(
    request: HttpRequest, school: School, membership: SchoolMembership, account: int
) -> HttpResponse:
    pupil = pupil_or_404(school, membership, account)
    pdf = cards_for_pupils(school, [pupil], base=request_base(request), qr=request.POST.get("qr", "1") == "1")
    record_event(school, actor_of(request), "printed", account=pupil, detail="1 card")
    return pdf_response(CardsPdf(pdf.content, pdf.cards, pdf.pages, f"login-card-{pupil.username}.pdf"))


@require_POST
@school_page()
def pupil_reset(
    request: HttpRequest, school: School, membership: SchoolMembership, account: int
) -> HttpResponse:
    pupil = pupil_or_404(school, membership, account)
    form = ResetPasswordForm(request.POST)
    fmt = form.cleaned_data["format"] if form.is_valid() else year_format(pupil)
    reset_password(pupil, actor=actor_of(request), fmt=fmt)
    request.session[REVEAL_KEY] = pupil.pk
    messages.success(
        request, "New password set. The old login card and its QR code no longer work: print a new card."
    )
    return redirect("pupil-login", school.slug, pupil.pk)


@require_POST
@school_page()
def pupil_unlock(
    request: HttpRequest, school: School, membership: SchoolMembership, account: int
) -> HttpResponse:
    pupil = pupil_or_404(school, membership, account)
    clear_pupil_lockout(pupil)
    record_event(school, actor_of(request), "unlocked", account=pupil)
    messages.success(request, "Lockout cleared: the pupil can sign in again.")
    return redirect("pupil-login", school.slug, pupil.pk)


@never_cache
@school_page()
def class_passwords(
    request: HttpRequest, school: School, membership: SchoolMembership, school_class: int
) -> HttpResponse:
    """Give a whole class (or subject group) new passwords in a chosen format."""
    found = class_or_404(school, membership, school_class)
    pupils = list(pupils_of_class(found))
    years = sorted({p.year_group for p in pupils if p.year_group})
    suggested = year_format(pupils[0]) if pupils else "animals"
    form = ClassPasswordsForm(request.POST or None, initial={"format": suggested})
    if request.method == "POST" and form.is_valid():
        count = change_class_passwords(
            found, form.cleaned_data["format"], actor=actor_of(request), pupils=pupils
        )
        messages.success(
            request, f"{count} pupils of {found.name} have new passwords. Print their new login cards."
        )
        return redirect("class-passwords", school.slug, found.pk)
    return _page(
        request,
        "missync/credentials/class_passwords.html",
        school,
        membership,
        school_class=found,
        pupils=pupils,
        years=years,
        form=form,
    )


@school_page(admin=True)
def history(request: HttpRequest, school: School, membership: SchoolMembership) -> HttpResponse:
    """Every credential action in the school, newest first."""
    events = CredentialEvent.objects.filter(school=school).select_related("account", "school_class")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return _page(
        request,
        "missync/credentials/history.html",
        school,
        membership,
        page=page,
        section="credential-history",
    )
