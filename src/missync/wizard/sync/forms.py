"""The wizard's forms. Each checks what the browser sent against what this school's export holds, so a
hand-edited field (an unknown format, "Year 99", a subject group that is not there) gets a clear
message and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import slugify

from missync.core.passwords import PASSWORD_FORMATS
from missync.core.usernames import USERNAME_FORMATS
from missync.core.years import YEAR_GROUPS

from .state import MAX_UPLOAD_BYTES, UPLOAD_SUFFIXES


class WizardForm(forms.Form):
    """Links each error to its control (aria-describedby, aria-invalid) once the form is checked."""

    def link_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                field, attrs = self[name], self.fields[name].widget.attrs
                described = [f"{field.auto_id}-error", attrs.get("aria-describedby", "")]
                if field.help_text:
                    described.append(f"{field.auto_id}_helptext")
                attrs["aria-describedby"] = " ".join(part for part in described if part)
                attrs["aria-invalid"] = "true"

    def error_list(self) -> list[tuple[str, str]]:
        """(field id, message) for the error summary at the top of the page."""
        found: list[tuple[str, str]] = []
        for name, messages in self.errors.items():
            target = ""
            if name in self.fields:
                target = self[name].auto_id
                if isinstance(self.fields[name].widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                    target += "_0"  # a group of choices: go to its first one
            found.extend((target, message) for message in messages)
        return found


def _check_upload(upload: UploadedFile | None, what: str) -> UploadedFile | None:
    if upload is None:
        return None
    name = Path(upload.name or "").name
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        hint = " (save it from Excel as .xlsx or .csv)" if name.lower().endswith(".xls") else ""
        raise forms.ValidationError(
            f"{name or 'The file'} is not a file missync reads{hint}: the {what} must be a OneRoster zip, "
            "or a CSV or XLSX spreadsheet."
        )
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            f"{name} is too large ({upload.size // (1024 * 1024)} MB): the limit is "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        )
    if upload.size == 0:
        raise forms.ValidationError(f"{name} is empty: export it from your MIS again.")
    return upload


class UploadForm(WizardForm):
    export = forms.FileField(
        label="MIS export",
        help_text="A OneRoster zip, or a CSV or XLSX spreadsheet of pupils and staff (or of pupils only).",
        widget=forms.FileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
        error_messages={"required": "Choose your MIS export file to upload."},
    )
    staff_export = forms.FileField(
        label="Staff spreadsheet (optional)",
        help_text="Only if your MIS exports staff in a separate CSV or XLSX file.",
        required=False,
        widget=forms.FileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )

    def clean_export(self) -> UploadedFile | None:
        return _check_upload(self.cleaned_data.get("export"), "MIS export")

    def clean_staff_export(self) -> UploadedFile | None:
        return _check_upload(self.cleaned_data.get("staff_export"), "staff spreadsheet")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        export, staff = data.get("export"), data.get("staff_export")
        if export is not None and staff is not None and Path(export.name or "").suffix.lower() == ".zip":
            self.add_error(
                "staff_export",
                "A OneRoster zip already holds the staff: upload the zip on its own, "
                "or two spreadsheets (pupils and staff).",
            )
        return data

    def files_to_save(self) -> list[UploadedFile]:
        return [f for f in (self.cleaned_data["export"], self.cleaned_data.get("staff_export")) if f]


_USERNAME_ERRORS = {
    "invalid_choice": "“%(value)s” is not a username format: choose one of the formats listed.",
    "required": "Choose a username format.",
}


class UsernamesForm(WizardForm):
    pupil_username_format = forms.ChoiceField(
        label="Username format for new pupils",
        choices=list(USERNAME_FORMATS.items()),
        widget=forms.RadioSelect,
        error_messages=_USERNAME_ERRORS,
    )
    staff_username_format = forms.ChoiceField(
        label="Username format for new staff",
        choices=list(USERNAME_FORMATS.items()),
        widget=forms.RadioSelect,
        error_messages=_USERNAME_ERRORS,
    )


def password_field_name(year_group: str) -> str:
    return "password-" + slugify(year_group)


class PasswordsForm(WizardForm):
    """One password format per platform year group in the export."""

    def __init__(self, year_groups: list[str], example_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year_groups = year_groups
        for year in year_groups:
            name = password_field_name(year)
            # The example beside each select is fetched again when the format changes (htmx); without
            # JavaScript it is shown again after Next or Back.
            example = {
                "hx-get": example_url,
                "hx-trigger": "change",
                "hx-include": "this",
                "hx-target": f"#id_{name}-example",
                "aria-describedby": f"id_{name}-example",
            }
            self.fields[name] = forms.ChoiceField(
                label=f"Password format for new pupils in {year}",
                choices=list(PASSWORD_FORMATS.items()),
                widget=forms.Select(attrs=example),
                error_messages={
                    "invalid_choice": f"“%(value)s” is not a password format: choose one for {year} "
                    "from the list.",
                    "required": f"Choose a password format for {year}.",
                },
            )

    def formats(self) -> dict[str, str]:
        return {year: self.cleaned_data[password_field_name(year)] for year in self.year_groups}


class YearsForm(WizardForm):
    """Each MIS year name in the export mapped to a platform year group; none may be left unmapped."""

    def __init__(self, mis_names: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mis_names = mis_names
        for index, name in enumerate(mis_names):
            self.fields[f"year-{index}"] = forms.ChoiceField(
                label=f"MIS year “{name}”",
                choices=[("", "Choose a year group")] + [(year, year) for year in YEAR_GROUPS],
                error_messages={
                    "required": f"Choose the year group that the MIS year “{name}” means.",
                    "invalid_choice": f"“%(value)s” is not a platform year group: choose one for “{name}” "
                    "from the list.",
                },
            )

    def mapping(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"year-{i}"] for i, name in enumerate(self.mis_names)}


class SubjectsForm(WizardForm):
    def __init__(self, names: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject_groups"] = forms.MultipleChoiceField(
            label="Subject groups to import",
            choices=[(name, name) for name in names],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": "“%(value)s” is not a subject group in this export: tick groups from "
                "the list."
            },
        )
