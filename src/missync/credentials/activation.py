"""Staff activation: new staff get an email with a link that works once and expires; it leads to setting a
password (validated, kept as Django's slow hash), which creates their teacher sign-in.

The link's token is a `PasswordResetTokenGenerator` whose hash covers the staff account and whether it
can sign in yet, so it stops working once used; it expires after `MISSYNC_ACTIVATION_DAYS`. Email goes
through Django's email framework (see `mail_settings`: files in MISSYNC_HOME/emails/ by default).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from missync.accounts.models import Account, School, SyncRun
from missync.wizard.logins import create_login
from missync.wizard.models import ROLE_TEACHER, SchoolMembership, school_username

from .changes import record_event
from .models import StaffActivation
from .printing import base_url, sign_in_url

log = logging.getLogger(__name__)


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Tokens for a staff `Account` (not yet a Django user) that die once it can sign in."""

    key_salt = "missync.credentials.activation.ActivationTokenGenerator"

    def _make_hash_value(self, account: Account, timestamp: int) -> str:
        email = (account.email or "").strip().lower()
        return f"{account.pk}:{account.school_id}:{email}:{account.status}:{has_sign_in(account)}:{timestamp}"

    def check_token(self, account: Account | None, token: str | None) -> bool:
        """Valid, unused and younger than MISSYNC_ACTIVATION_DAYS days."""
        if account is None or not token:
            return False
        ts_b36, _, _ = token.partition("-")
        try:
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        valid = any(
            constant_time_compare(self._make_token_with_timestamp(account, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )
        age = self._num_seconds(self._now()) - ts
        return valid and 0 <= age <= activation_days() * 24 * 3600

    def _now(self) -> datetime:
        return datetime.now()


activation_tokens = ActivationTokenGenerator()


def activation_days() -> int:
    return int(getattr(settings, "MISSYNC_ACTIVATION_DAYS", 7))


def has_sign_in(account: Account) -> bool:
    """Whether this member of staff can already sign in (so needs no activation)."""
    if not account.email:
        return False
    if SchoolMembership.objects.filter(account=account).exists():
        return True
    return get_user_model().objects.filter(username=school_username(account.school, account.email)).exists()


def uid_for(account: Account) -> str:
    return urlsafe_base64_encode(force_bytes(account.pk))


def staff_from_uid(school: School, uidb64: str) -> Account | None:
    """The active member of staff with an email whose id is encoded in an activation link."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return (
        Account.objects.filter(pk=pk, school=school, role="staff", status="active", email__isnull=False)
        .exclude(email="")
        .select_related("school")
        .first()
    )


def activation_link(account: Account, base: str | None = None) -> str:
    path = reverse(
        "activate", args=[account.school.slug, uid_for(account), activation_tokens.make_token(account)]
    )
    return base_url(base) + path


def _message(account: Account, base: str | None) -> EmailMessage:
    school = account.school
    days = activation_days()
    body = (
        f"Hello {account.forename},\n\n"
        f"{school.name} has given you a sign-in. To start, choose your password here:\n\n"
        f"    {activation_link(account, base)}\n\n"
        f"The link works once, for {days} days. After that, sign in at {sign_in_url(school, base_url(base))} "
        f"with this email address ({account.email}) and your password.\n\n"
        "If you did not expect this email, you can ignore it: nothing happens until the link is used.\n"
    )
    return EmailMessage(f"Set up your sign-in for {school.name}", body, to=[account.email or ""])


def _sent(account: Account, actor: str) -> None:
    now = timezone.now()
    activation, created = StaffActivation.objects.get_or_create(
        account=account, defaults={"first_sent_at": now, "last_sent_at": now, "sent_count": 1}
    )
    if not created:
        activation.last_sent_at = now
        activation.sent_count += 1
        activation.save(update_fields=["last_sent_at", "sent_count"])
    record_event(account.school, actor, "activation_sent", account=account)


def send_activation(account: Account, *, actor: str, base: str | None = None) -> bool:
    """Send (or send again) one member of staff their activation email; False if it could not go."""
    if account.role != "staff" or not account.email or account.status != "active" or has_sign_in(account):
        return False
    try:
        sent = _message(account, base).send()
    except Exception as error:  # SMTP trouble must not break the page; the admin can resend
        log.warning("An activation email could not be sent (%s).", type(error).__name__)
        return False
    if sent:
        _sent(account, actor)
    return bool(sent)


def staff_needing_activation(school: School, run: SyncRun) -> list[Account]:
    """New staff of `run` who have an email and cannot sign in yet."""
    ids = run.changes.filter(entity="account", kind="new_staff").values_list("object_id", flat=True)
    staff = Account.objects.filter(
        school=school, role="staff", status="active", pk__in=list(ids)
    ).select_related("school")
    return [account for account in staff.order_by("id") if account.email and not has_sign_in(account)]


def send_activation_emails(
    school: School, run: SyncRun, *, base: str | None = None, actor: str = "sync"
) -> int:
    """Email each new member of staff of `run` (with an email, no sign-in yet) an activation link.

    Returns how many were sent. An email that cannot be sent is logged (without address) and skipped.
    """
    connection = get_connection()
    count = 0
    with connection:
        for account in staff_needing_activation(school, run):
            message = _message(account, base)
            message.connection = connection
            try:
                if message.send():
                    _sent(account, actor)
                    count += 1
            except Exception as error:
                log.warning("An activation email could not be sent (%s).", type(error).__name__)
    return count


def email_destination() -> str:
    """Where emails go with the current settings, in words (the CLI and demo print it)."""
    backend = settings.EMAIL_BACKEND
    if backend.endswith("filebased.EmailBackend"):
        return f"written to files in {settings.EMAIL_FILE_PATH}"
    if backend.endswith("console.EmailBackend"):
        return "printed on the console"
    if backend.endswith("smtp.EmailBackend"):
        return f"sent by SMTP through {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if backend.endswith("locmem.EmailBackend"):
        return "kept in memory (tests)"
    return f"handed to {backend}"


def activate(account: Account, password: str) -> SchoolMembership:
    """Create the teacher's sign-in with the password they chose (validated by `create_login`)."""
    with transaction.atomic():
        membership = create_login(
            account.school,
            account.email or "",
            password,
            role=ROLE_TEACHER,
            name=f"{account.forename} {account.surname}",
            account=account,  # the account the link was sent for, never another with the same email
        )
        StaffActivation.objects.filter(account=account).update(activated_at=timezone.now())
        record_event(account.school, account.email or "", "activated", account=account)
    return membership
