"""Which cards to print: a class, a subject group, chosen pupils, or the new users of a sync run.

Entry points: the Manage Users cards page, the wizard's result page (`cards_for_run`) and
`missync cards`. Pupils come in class order, then by name; staff after them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from anyascii import anyascii
from django.conf import settings
from django.urls import reverse

from missync.accounts.crypto import decrypt_credential
from missync.accounts.models import Account, School, SchoolClass, SyncRun

from .cards import LoginCard, render_cards
from .changes import pupils_of_class
from .pupils import ensure_states, qr_token

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class CardsPdf:
    content: bytes
    cards: int
    pages: int
    filename: str


def configured_base_url() -> str:
    return str(getattr(settings, "MISSYNC_BASE_URL", "") or "").rstrip("/")


def base_url(base: str | None = None) -> str:
    """The address cards and emails point to: `base` if given, else MISSYNC_BASE_URL, else the default."""
    return (base or configured_base_url() or DEFAULT_BASE_URL).rstrip("/")


def sign_in_url(school: School, base: str) -> str:
    return base + reverse("sign-in", args=[school.slug])


def _sort_key(account: Account) -> tuple[int, str, str, str, int]:
    class_name = account.registration_class.name if account.registration_class else ""
    return (
        account.role != "pupil",
        class_name.lower(),
        account.surname.lower(),
        account.forename.lower(),
        account.pk,
    )


def cards_for_accounts(
    school: School,
    accounts: Iterable[Account],
    *,
    base: str | None = None,
    qr: bool = True,
    title: str = "Login cards",
) -> CardsPdf:
    """The PDF of login cards for these accounts of `school` (pupils with passwords; staff starred)."""
    base = base_url(base)
    chosen = sorted({a.pk: a for a in accounts if a.school_id == school.pk}.values(), key=_sort_key)
    pupils = [a for a in chosen if a.role == "pupil"]
    states = ensure_states(pupils) if qr else {}
    cards = []
    for account in chosen:
        class_name = account.registration_class.name if account.registration_class else ""
        name = f"{account.forename} {account.surname}"
        if account.role == "pupil":
            state = states.get(account.pk)
            qr_url = (
                f"{base}{reverse('pupil-qr', args=[school.slug, qr_token(account, state)])}"
                if state
                else None
            )
            password = decrypt_credential(account.credential) or ""
            cards.append(
                LoginCard(
                    name, account.username, class_name, account.year_group or "", password, qr_url=qr_url
                )
            )
        else:
            taught = sorted(
                m.school_class.name
                for m in account.memberships.all()
                if m.school_class.kind == "registration"
            )
            cards.append(LoginCard(name, account.username, ", ".join(taught), email=account.email or ""))
    content, pages = render_cards(
        cards, school_name=school.name, sign_in_url=sign_in_url(school, base), title=title
    )
    return CardsPdf(content, len(cards), pages, f"login-cards-{school.slug}.pdf")


def _with_relations(accounts: Iterable[Account]) -> list[Account]:
    ids = [a.pk for a in accounts]
    return list(
        Account.objects.filter(pk__in=ids)
        .select_related("registration_class", "school")
        .prefetch_related("memberships__school_class")
    )


def staff_of_class(school_class: SchoolClass) -> list[Account]:
    return list(
        Account.objects.filter(
            school_id=school_class.school_id,
            role="staff",
            status="active",
            memberships__school_class=school_class,
        ).distinct()
    )


def cards_for_class(
    school_class: SchoolClass, *, base: str | None = None, qr: bool = True, staff: bool = False
) -> CardsPdf:
    """Cards for every active pupil of a class or subject group (and, if asked, its staff)."""
    accounts: list[Account] = list(pupils_of_class(school_class))
    if staff:
        accounts += staff_of_class(school_class)
    pdf = cards_for_accounts(
        school_class.school,
        _with_relations(accounts),
        base=base,
        qr=qr,
        title=f"Login cards: {school_class.name}",
    )
    return CardsPdf(pdf.content, pdf.cards, pdf.pages, f"login-cards-{_slug(school_class.name)}.pdf")


def new_accounts_of_run(run: SyncRun) -> list[Account]:
    """The accounts a sync run created (new pupils and new staff) that are still active."""
    ids = run.changes.filter(
        entity="account", kind__in=["new_pupils", "new_staff"], before__isnull=True
    ).values_list("object_id", flat=True)
    return _with_relations(Account.objects.filter(school_id=run.school_id, status="active", pk__in=list(ids)))


def cards_for_run(run: SyncRun, *, base: str | None = None, qr: bool = True) -> bytes:
    """The login cards of every new pupil and member of staff of a sync run, as PDF bytes."""
    return cards_pdf_for_run(run, base=base, qr=qr).content


def cards_pdf_for_run(run: SyncRun, *, base: str | None = None, qr: bool = True) -> CardsPdf:
    pdf = cards_for_accounts(
        run.school, new_accounts_of_run(run), base=base, qr=qr, title=f"Login cards: sync #{run.pk}"
    )
    return CardsPdf(pdf.content, pdf.cards, pdf.pages, f"login-cards-sync-{run.pk}.pdf")


def cards_for_pupils(
    school: School, pupils: Sequence[Account], *, base: str | None = None, qr: bool = True
) -> CardsPdf:
    return cards_for_accounts(school, _with_relations(pupils), base=base, qr=qr)


def _slug(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in anyascii(name).lower())
    return "-".join(part for part in cleaned.split("-") if part) or "class"
