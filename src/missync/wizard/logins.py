"""Creating staff sign-ins for a school (CLI and first set-up)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from missync.accounts.models import Account, School
from missync.accounts.services import InvalidInput

from .models import ROLE_ADMIN, ROLE_TEACHER, SchoolMembership, school_username


def create_login(
    school: School,
    email: str,
    password: str,
    *,
    role: str = ROLE_ADMIN,
    name: str = "",
    account: Account | None = None,
) -> SchoolMembership:
    """A sign-in for `email` at `school` with `role`, linked to the school's staff account with that email.

    A teacher must have a staff account (from a sync, or added by hand) so their classes are known.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an email address")
    if role not in (ROLE_ADMIN, ROLE_TEACHER):
        raise InvalidInput("role must be admin or teacher")
    try:
        validate_password(password)
    except ValidationError as error:
        raise InvalidInput("the password is too weak: " + " ".join(error.messages)) from None
    if account is None:  # the active member of staff with this email (an archived one has left)
        account = Account.objects.filter(
            school=school, role="staff", status="active", email__iexact=email
        ).first()
    elif account.school_id != school.pk or account.role != "staff" or account.status != "active":
        raise InvalidInput("only an active member of staff of this school can be given a sign-in")
    if role == ROLE_TEACHER and account is None:
        raise InvalidInput(
            f"no member of staff of {school.slug} has the email {email}: sync the school or add them first"
        )
    users = get_user_model()
    username = school_username(school, email)
    with transaction.atomic():
        if users.objects.filter(username=username).exists():
            raise InvalidInput(f"{email} can already sign in to {school.slug}")
        user = users.objects.create_user(username=username, email=email, password=password, first_name=name)
        return SchoolMembership.objects.create(user=user, school=school, role=role, account=account)
