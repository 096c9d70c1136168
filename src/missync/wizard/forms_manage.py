"""Manage Users forms: the search and filter bar of each tab, adding a user by hand, renaming a class."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from missync.accounts.models import School, SchoolClass
from missync.core.names import clean_name
from missync.core.years import YEAR_GROUPS

from .manage_services import KIND_REGISTRATION, KIND_SUBJECT, MAX_CLASS_NAME, staff_email_taken

YEAR_CHOICES = [(year, year) for year in YEAR_GROUPS]
ROLE_CHOICES = [("pupil", "Pupil"), ("staff", "Member of staff")]


class ListFilterForm(forms.Form):
    """A tab's GET form. Only the given classes can be chosen: any other id is refused, never trusted."""

    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search by name or username",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(
        self,
        data: Any,
        *,
        classes: Sequence[SchoolClass] | None = None,
        year: bool = False,
        role: bool = False,
        search_label: str = "",
    ) -> None:
        super().__init__(data, label_suffix="")
        if search_label:
            self.fields["q"].label = search_label
        if classes is not None:
            by_kind = {
                kind: [(str(c.pk), c.name) for c in classes if c.kind == kind]
                for kind in (KIND_REGISTRATION, KIND_SUBJECT)
            }
            choices: list[Any] = [("", "All classes and groups")]
            choices += [(label, by_kind[kind]) for kind, label in _KIND_LABELS if by_kind[kind]]
            self.fields["class"] = forms.ChoiceField(
                required=False,
                label="Class or group",
                choices=choices,
                error_messages={"invalid_choice": "Choose a class or group from the list."},
            )
        if year:
            self.fields["year"] = forms.ChoiceField(
                required=False,
                label="Year group",
                choices=[("", "All year groups"), *YEAR_CHOICES],
                error_messages={"invalid_choice": "Choose a year group from the list."},
            )
        if role:
            self.fields["role"] = forms.ChoiceField(
                required=False,
                label="Role",
                choices=[("", "Pupils and staff"), ("pupil", "Pupils"), ("staff", "Staff")],
                error_messages={"invalid_choice": "Choose pupils or staff from the list."},
            )

    def value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "") if self.is_valid() else ""

    def class_id(self) -> int | None:
        chosen = self.value("class")
        return int(chosen) if chosen else None

    @property
    def filtering(self) -> bool:
        """True when any search or filter is set (the page then offers to clear them)."""
        return any(self.data.get(name) for name in self.fields)


_KIND_LABELS = ((KIND_REGISTRATION, "Classes"), (KIND_SUBJECT, "Subject groups"))


class AddUserForm(forms.Form):
    forename = forms.CharField(max_length=120, label="Forename", help_text="The name they are known by.")
    surname = forms.CharField(max_length=120, label="Surname")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="pupil", widget=forms.RadioSelect, label="Role")
    school_class = forms.ModelChoiceField(
        queryset=SchoolClass.objects.none(),
        required=False,
        label="Class",
        empty_label="No class",
        help_text="A pupil's registration class, or the class a member of staff teaches.",
        error_messages={"invalid_choice": "Choose a class from the list."},
    )
    new_class = forms.CharField(
        required=False,
        max_length=MAX_CLASS_NAME,
        label="Or a new class",
        help_text="Type a name to make a new class (leave the class above as “No class”). "
        "Use the MIS's exact name, so a sync finds it.",
    )
    year = forms.ChoiceField(
        required=False,
        choices=[("", "Not set"), *YEAR_CHOICES],
        label="Year group",
        help_text="Pupils only: it decides the password format.",
    )
    email = forms.EmailField(
        required=False, max_length=254, label="Email", help_text="Needed for staff: they sign in with it."
    )
    dob = forms.DateField(
        required=False,
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Optional. Helps a sync recognise a hand-made pupil as the same child.",
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, label_suffix="", **kwargs)
        self.school = school
        self.fields["school_class"].queryset = SchoolClass.objects.filter(  # type: ignore[attr-defined]
            school=school, status="active", kind=KIND_REGISTRATION
        ).order_by("name", "pk")

    def _name(self, field: str) -> str:
        value = clean_name(self.cleaned_data.get(field))
        if not value:
            raise forms.ValidationError("Enter a name with at least one letter or digit.")
        return value

    def clean_forename(self) -> str:
        return self._name("forename")

    def clean_surname(self) -> str:
        return self._name("surname")

    def clean_dob(self) -> dt.date | None:
        dob: dt.date | None = self.cleaned_data.get("dob")
        if dob is not None and not dt.date(1900, 1, 1) <= dob <= timezone.localdate():
            raise forms.ValidationError("Enter a date of birth in the past, e.g. 2017-09-14.")
        return dob

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("school_class") is not None and clean_name(data.get("new_class")):
            self.add_error("new_class", "Choose an existing class or type a new one, not both.")
        if data.get("role") == "staff":
            email = data.get("email") or ""
            if not email and "email" not in self.errors:
                self.add_error("email", "Enter an email address: staff sign in with it.")
            elif email and staff_email_taken(self.school, email):
                self.add_error("email", "A member of staff already has this email address.")
        return data


class RenameClassForm(forms.Form):
    # Length, emptiness and clashes are checked by `manage_services.check_class_name`, in one place.
    name = forms.CharField(required=False, label="New name", strip=True)
