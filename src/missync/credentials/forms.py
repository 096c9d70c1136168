"""Forms of the credential pages: new passwords for a pupil or a class; a new member of staff's password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    get_password_validators,
    password_validators_help_text_html,
    validate_password,
)

from missync.accounts.models import Account
from missync.core.passwords import PASSWORD_FORMATS
from missync.wizard.models import school_username

FORMAT_CHOICES = list(PASSWORD_FORMATS.items())

# Django's standard checks, used when the settings name none (staff passwords guard children's data).
STANDARD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def staff_password_validators() -> list[Any]:
    return get_password_validators(settings.AUTH_PASSWORD_VALIDATORS or STANDARD_VALIDATORS)


class ResetPasswordForm(forms.Form):
    format = forms.ChoiceField(label="New password format", choices=FORMAT_CHOICES)


class ClassPasswordsForm(forms.Form):
    format = forms.ChoiceField(label="New password format for the whole class", choices=FORMAT_CHOICES)
    confirm = forms.BooleanField(
        label="I understand: every pupil gets a new password and their old login cards stop working",
        required=True,
    )


class SetPasswordForm(forms.Form):
    """A new member of staff's first password: typed twice, checked by Django's password validators."""

    password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, account: Account, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["password1"].help_text = password_validators_help_text_html(staff_password_validators())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords are not the same.")
        elif first:
            # Validated as the user it will become, so it may not resemble their name or email.
            email = self.account.email or ""
            user = get_user_model()(
                username=school_username(self.account.school, email),
                email=email,
                first_name=self.account.forename,
                last_name=self.account.surname,
            )
            try:
                validate_password(first, user, staff_password_validators())
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
